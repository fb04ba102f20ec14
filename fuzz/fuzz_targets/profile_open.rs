//! Fuzz target: a mission profile file must never panic the parser, the signature check, or
//! the walk through the hand-over chain it carries when it is offered as an update.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use truce_sync::device::DeviceSigningKey;
use truce_sync::profile::{MissionProfile, SignedProfile};

/// A profile installed on the device the fuzzed update is offered to.
fn installed() -> &'static SignedProfile {
    static INSTALLED: OnceLock<SignedProfile> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let issued = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z")
            .expect("a fixed time");
        let mut profile = MissionProfile::new(
            "Fuzz mission",
            uuid::Uuid::from_bytes([7; 16]),
            issued,
            vec!["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p".into()],
        );
        profile.sequence = Some(1);
        let text = profile
            .sign(&DeviceSigningKey::from_bytes(&[7; 32]))
            .expect("signs");
        SignedProfile::open(&text).expect("opens")
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(update) = SignedProfile::open(text) {
            let _ = update.may_replace(installed());
        }
    }
});
