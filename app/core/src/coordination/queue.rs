//! The incident queue: every device's records with their verification status, filtered,
//! sorted and paged.

use super::links::observation_area;
use crate::journal::{Journal, JournalError};
use crate::model::{ObservationFilter, QueueExtra, QueuePage, QueueRow};

/// Stops a streaming query early (the page is full) or carries a store error.
enum Scan {
    Full,
    Failed(crate::store::StoreError),
}

impl From<crate::store::StoreError> for Scan {
    fn from(e: crate::store::StoreError) -> Self {
        Scan::Failed(e)
    }
}

impl Journal {
    /// The latest revision of every observation matching `filter`, newest first, with its
    /// verification status: the incident queue.
    pub fn query(&self, filter: &ObservationFilter) -> Result<Vec<QueueRow>, JournalError> {
        let mut rows = Vec::new();
        self.store
            .each_matching(filter, |row| -> Result<(), JournalError> {
                rows.push(row);
                Ok(())
            })?;
        Ok(rows)
    }

    /// One page of the incident queue: at most `limit` rows after the first `offset` matching
    /// ones, streamed from the store and stopped as soon as the page is full, so a queue of a
    /// million records never sits in memory.
    pub fn queue_page(
        &self,
        filter: &ObservationFilter,
        extra: &QueueExtra,
        offset: usize,
        limit: usize,
    ) -> Result<QueuePage, JournalError> {
        self.require_coordinator("the incident queue")?;
        let areas = if extra.area.is_some() {
            self.profile
                .as_ref()
                .map(|p| p.profile.areas.clone())
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let mut filter = filter.clone();
        if extra.area.is_none() && extra.party.is_none() {
            // One more than the page tells whether there is a next one.
            filter.limit = u32::try_from(offset + limit + 1).ok();
        }
        let mut skipped = 0;
        let mut rows = Vec::new();
        let mut more = false;
        let scan = self
            .store
            .each_matching(&filter, |row| -> Result<(), Scan> {
                let o = &row.revision.observation;
                if let Some(area) = &extra.area {
                    let code = observation_area(&areas, o)
                        .map(|a| a.code.as_str())
                        .unwrap_or("");
                    if code != area {
                        return Ok(());
                    }
                }
                if let Some(party) = &extra.party {
                    let initiator = o.initiator.as_deref().unwrap_or("unknown");
                    if initiator != party {
                        return Ok(());
                    }
                }
                if skipped < offset {
                    skipped += 1;
                    return Ok(());
                }
                if rows.len() == limit {
                    more = true;
                    return Err(Scan::Full);
                }
                rows.push(row);
                Ok(())
            });
        match scan {
            Ok(()) | Err(Scan::Full) => Ok(QueuePage { rows, more }),
            Err(Scan::Failed(e)) => Err(e.into()),
        }
    }
}
