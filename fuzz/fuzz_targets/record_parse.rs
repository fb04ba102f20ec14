//! Fuzz target: a record carried in a bundle entry never panics parsing or validation, and the
//! one-pass parse agrees with the general path: same acceptance, same revision.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truce_sync::observation::Observation;
use truce_sync::{log, Taxonomy};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let taxonomy = Taxonomy::builtin();
    let either = log::parse_record(1, text, &taxonomy);
    let general = log::parse_record_general(1, text, &taxonomy);
    match (either, general) {
        (Ok(fast), Ok(general)) => {
            assert_eq!(fast.revision, general.revision, "the two paths disagree");
            // The body each would store reads back as the same observation, whatever its bytes.
            let a: Observation = serde_json::from_str(&fast.body).expect("the body reads back");
            let b: Observation = serde_json::from_str(&general.body).expect("the body reads back");
            assert_eq!(a, b, "the two bodies hold different observations");
            assert_eq!(a, fast.revision.observation, "the body is not the revision's");
        }
        (Ok(_), Err(e)) => panic!("the one-pass parse accepted what the general path refuses: {e}"),
        (Err(e), Ok(_)) => panic!("refused what the general path accepts: {e}"),
        (Err(_), Err(_)) => {}
    }
});
