//! Exchange use cases, one file per feature: the coordinator's keys, mission profiles, bundle
//! export on devices, and bundle import and merge on coordinators. Plain Rust types in and out.

mod enrolment;
mod export;
mod forward;
mod import;
mod keys;
mod profile;
mod purge;
mod receipts;

pub use export::BUNDLE_EXTENSION;
pub use import::{bundle_files, IMPORT_COMMIT_ENTRIES, IMPORT_COMMIT_INTERVAL};
pub use keys::CoordinatorIdentity;
pub use receipts::DeviceAgeIdentity;
