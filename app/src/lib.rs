//! truce: the encrypted field journal (SQLCipher store), its use cases and the command line.
//! Also the coordinator use cases and the Slint GUI's adapters; `sync` holds what crosses devices.

pub mod alerts;
#[cfg(target_os = "android")]
pub mod android;
pub mod cli;
pub mod coordinator;
pub mod exchange;
pub mod fsutil;
pub mod gui;
pub mod journal;
pub mod keyfile;
pub mod location;
pub mod manpage;
pub mod preferences;
pub mod publish;
pub mod report;
pub mod store;
pub mod terminal;
pub mod unlock_policy;

pub use journal::{DeviceSummary, Journal, JournalError, JournalPaths, Profile, WipeReport};
pub use keyfile::KdfCost;
