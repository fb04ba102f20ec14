//! The Slint-generated types: `AppWindow`, the adapter globals and their structs.
// The generator writes `todo!` in code paths for components Truce does not use.
#![allow(clippy::todo)]

slint::include_modules!();
