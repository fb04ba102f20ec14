//! Fuzz target: a mission profile file must never panic the parser or the signature check.
#![no_main]

use libfuzzer_sys::fuzz_target;
use truce_sync::profile::SignedProfile;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = SignedProfile::open(text);
    }
});
