//! Fuzz target: a receipt's decrypted text must never panic the reader, whatever its JSON,
//! signature, ranges or carried profile; and whatever it accepts holds to the receipt rules.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(opened) = truce_sync::receipt::open_plaintext(data) {
        assert!(opened.receipt.validate().is_ok());
        let held = opened.receipt.held_ranges();
        assert!(held.windows(2).all(|w| w[0].1 < w[1].0));
    }
});
