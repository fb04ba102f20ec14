//! Fuzz target: a record carried in a bundle entry must never panic parsing or validation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truce_sync::{log, Taxonomy};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = log::parse_record(1, text, &Taxonomy::builtin());
    }
});
