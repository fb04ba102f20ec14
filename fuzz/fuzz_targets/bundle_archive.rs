//! Fuzz target: the inner layer of a version-2 bundle (the tar archive after age) must never
//! panic, whatever its members, names, sizes and signature, read to the end as the importer
//! reads it.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use truce_sync::bundle::{BundleReader, Limits};

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_plain_bytes: 1 << 20,
        max_attachment_bytes: 1 << 20,
        ..Limits::default()
    };
    let Ok(mut reader) = BundleReader::from_archive(data, limits) else {
        return;
    };
    while let Ok(Some(_)) = reader.next_entry() {}
    let mut sink = Vec::new();
    while let Ok(Some(_)) = reader.next_attachment() {
        sink.clear();
        if reader.attachment_data().read_to_end(&mut sink).is_err() {
            return;
        }
    }
    let _ = reader.finish();
});
