//! Fuzz target: whatever the bundle reader and the record check accept stays within the bounds
//! the coordinator's journal relies on (sequence numbers, revisions, counts), so no accepted
//! bundle can fail a conversion in the store and stop an import run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truce_sync::bundle::{BundleReader, Limits};
use truce_sync::log::{self, MAX_REVISION, MAX_SEQ};
use truce_sync::observation::MAX_COUNT;
use truce_sync::Taxonomy;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_plain_bytes: 1 << 20,
        ..Limits::default()
    };
    let Ok(mut reader) = BundleReader::from_plaintext(data, limits) else {
        return;
    };
    let manifest = reader.manifest().clone();
    assert!(manifest.first_seq >= 1 && manifest.last_seq <= MAX_SEQ, "{manifest:?}");
    assert!(manifest.first_seq <= manifest.last_seq);
    let taxonomy = Taxonomy::builtin();
    while let Ok(Some(entry)) = reader.next_entry() {
        assert!(entry.seq <= MAX_SEQ);
        if let Ok(parsed) = log::parse_record(entry.seq, entry.record.get(), &taxonomy) {
            let rev = &parsed.revision;
            assert!(rev.revision >= 1 && rev.revision <= MAX_REVISION);
            for count in [rev.observation.event_count, rev.observation.killed, rev.observation.injured]
                .into_iter()
                .flatten()
            {
                assert!(count <= MAX_COUNT);
            }
        }
    }
});
