//! Coordinator use cases, one file per feature: the incident queue, verification, links
//! between reports of one event, the devices seen, reports and alerts, data exports and the
//! coordinator's working preferences. Field records are never altered here. Plain Rust types
//! in and out (`crate::model`); the store is reached only through its coordination queries.

mod data_export;
mod devices;
mod links;
pub mod preferences;
pub mod publication;
mod queue;
mod reports;
#[cfg(test)]
pub(crate) mod testkit;
mod verification;

pub use links::{
    haversine_km, observation_area, rank_link_suggestions, LINK_DISTANCE_KM, LINK_SUGGESTIONS_MAX,
    LINK_WINDOW_MS,
};
pub use verification::NOTE_MAX_CHARS;
