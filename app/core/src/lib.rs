//! truce-core: the encrypted field journal (SQLCipher store) and the use cases that monitors and
//! coordinators run on it, with no GUI and no command line. `truce-sync` holds what crosses devices.

pub mod alerts;
pub mod coordination;
pub mod evidence;
pub mod exchange;
pub mod fsutil;
pub mod journal;
pub mod keyfile;
pub mod location;
pub mod model;
pub mod period;
pub mod publish;
pub mod report;
pub mod secure_memory;
pub(crate) mod store;
pub mod unlock_policy;

pub use journal::{Journal, JournalError, JournalPaths, Profile, WipeReport};
pub use keyfile::KdfCost;
pub use model::{KnownDevice, ThisDevice};
pub use store::set_memory_security;
