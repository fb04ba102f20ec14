//! End-to-end tests of the `truce` command line: the CLI contract (output, exit codes, validation) and what the encrypted journal leaves on disk.
//!
//! Every test runs the real `truce` binary (built on first use, see `truce_tests::truce_bin`)
//! against a journal in its own temporary folder, with a clean environment and fast key
//! derivation. The modules live in `tests/cli/`.

#[path = "cli/harness.rs"]
mod harness;

#[path = "cli/round_trip.rs"]
mod round_trip;

#[path = "cli/on_disk.rs"]
mod on_disk;

#[path = "cli/lifecycle.rs"]
mod lifecycle;

#[path = "cli/validation.rs"]
mod validation;

#[path = "cli/damage.rs"]
mod damage;

#[path = "cli/bundles.rs"]
mod bundles;

#[path = "cli/evidence.rs"]
mod evidence;

#[path = "cli/coordinator.rs"]
mod coordinator;

#[path = "cli/durability.rs"]
mod durability;

#[path = "cli/trust.rs"]
mod trust;

#[path = "cli/way_back.rs"]
mod way_back;

#[path = "cli/terminal.rs"]
mod terminal;

#[path = "cli/auditor.rs"]
mod auditor;

#[path = "cli/outputs.rs"]
mod outputs;

#[path = "cli/json_contract.rs"]
mod json_contract;
