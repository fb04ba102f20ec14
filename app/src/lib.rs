//! truce: the encrypted field journal (SQLCipher store), its use cases and the command line.
//! The GUI joins here in a later step; `sync` holds what crosses devices.

pub mod cli;
pub mod coordinator;
pub mod exchange;
pub mod fsutil;
pub mod journal;
pub mod keyfile;
pub mod publish;
pub mod store;

pub use journal::{DeviceSummary, Journal, JournalError, JournalPaths, Profile, WipeReport};
pub use keyfile::KdfCost;
