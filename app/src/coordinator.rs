//! Coordinator use cases: the verification trail, the devices seen, and data exports (full and
//! public). Field records are never altered here. Plain Rust types in and out.

use std::io::BufWriter;
use std::path::Path;

use chrono::{DateTime, Utc};
use truce_sync::verification::VerificationStatus;
use truce_sync::{fingerprint, Role};
use uuid::Uuid;

use crate::alerts::{Alert, AlertInput};
use crate::fsutil::AtomicFile;
use crate::journal::{now, Journal, JournalError};
use crate::publish::{row_values, DataFormat, DataWriter, PublicOptions};
use crate::report::Report;
use crate::store::{ObservationFilter, VerificationEvent};

/// Longest verification note, in characters.
pub const NOTE_MAX_CHARS: usize = 2_000;

/// A device as the coordinator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceReport {
    /// The device.
    pub device_id: Uuid,
    /// Its observer.
    pub observer: String,
    /// Its key fingerprint.
    pub fingerprint: String,
    /// When its latest bundle was imported.
    pub last_bundle_at: Option<String>,
    /// Entries held.
    pub entries: u64,
    /// Missing ranges of its log.
    pub gaps: Vec<(u64, u64)>,
}

impl Journal {
    fn coordinators_only(&self, what: &str) -> Result<(), JournalError> {
        if self.device.role == Role::Coordinator {
            Ok(())
        } else {
            Err(JournalError::Refused(format!(
                "{what} is for coordinators; this journal was created with --role monitor"
            )))
        }
    }

    /// Gives an observation a verification status, with a note; kept with who and when. The
    /// record itself is not touched.
    pub fn verify(
        &self,
        id_part: &str,
        status: VerificationStatus,
        note: &str,
    ) -> Result<VerificationEvent, JournalError> {
        self.coordinators_only("verification")?;
        let note = note.trim();
        if note.is_empty() {
            return Err(JournalError::Refused(
                "a verification needs a note saying why (--note TEXT)".into(),
            ));
        }
        if note.chars().count() > NOTE_MAX_CHARS {
            return Err(JournalError::Refused(format!(
                "the note is longer than {NOTE_MAX_CHARS} characters"
            )));
        }
        let id = self.store.resolve_id(id_part)?;
        let event = VerificationEvent {
            status,
            note: note.to_owned(),
            by_observer: self.device.observer.clone(),
            by_device: self.device.device_id,
            at: now().to_rfc3339(),
        };
        self.store.add_verification(id, &event)?;
        Ok(event)
    }

    /// Links reports of the same event (two teams heard the same shelling). Joins the event one
    /// of them already belongs to; refuses to merge two different events. Returns the event id.
    pub fn link(&mut self, id_parts: &[String]) -> Result<String, JournalError> {
        self.coordinators_only("linking reports")?;
        if id_parts.len() < 2 {
            return Err(JournalError::Refused(
                "give at least two observations to link as one event".into(),
            ));
        }
        let ids = id_parts
            .iter()
            .map(|p| self.store.resolve_id(p))
            .collect::<Result<Vec<_>, _>>()?;
        let mut events = std::collections::BTreeSet::new();
        for id in &ids {
            if let Some(event) = self.store.event_of(*id)? {
                events.insert(event);
            }
        }
        if events.len() > 1 {
            return Err(JournalError::Refused(format!(
                "these observations already belong to different events ({}); link the remaining ones to one of them",
                events.into_iter().collect::<Vec<_>>().join(", ")
            )));
        }
        let event = events
            .into_iter()
            .next()
            .unwrap_or_else(|| Uuid::now_v7().to_string());
        self.store
            .link_event(&event, &ids, &self.device.observer, &now().to_rfc3339())?;
        Ok(event)
    }

    /// Every event and the observations linked to it.
    pub fn events(&self) -> Result<Vec<(String, Vec<Uuid>)>, JournalError> {
        Ok(self.store.events()?)
    }

    /// An observation's verification trail, oldest first (empty: unverified).
    pub fn verification_trail(
        &self,
        id_part: &str,
    ) -> Result<Vec<VerificationEvent>, JournalError> {
        let id = self.store.resolve_id(id_part)?;
        Ok(self.store.verification_trail(id)?)
    }

    /// Every device bundles came from, with its gaps.
    pub fn devices(&self) -> Result<Vec<DeviceReport>, JournalError> {
        self.coordinators_only("the device list")?;
        let mut out = Vec::new();
        for d in self.store.device_statuses()? {
            let key = truce_sync::bundle::parse_device_key(&d.device_key).ok_or_else(|| {
                JournalError::Damaged(format!(
                    "the stored key of device {} is unreadable",
                    d.device_id
                ))
            })?;
            out.push(DeviceReport {
                device_id: d.device_id,
                observer: d.observer,
                fingerprint: fingerprint(&key),
                last_bundle_at: d.last_bundle_at,
                entries: d.entries,
                gaps: self.store.received_gaps(d.device_id)?,
            });
        }
        Ok(out)
    }

    /// Writes the observations matching `filter` to `out` atomically; returns the row count.
    /// A public export keeps only verified and corroborated records unless `filter` names
    /// statuses, and redacts as [`crate::publish::row_values`] describes.
    pub fn export_data(
        &self,
        format: DataFormat,
        filter: &ObservationFilter,
        public: Option<PublicOptions>,
        out: &Path,
    ) -> Result<u64, JournalError> {
        let mut filter = filter.clone();
        if public.is_some() && filter.statuses.is_empty() {
            filter.statuses = VerificationStatus::ALL
                .into_iter()
                .filter(|s| s.is_publishable())
                .collect();
        }
        if let Some(p) = public {
            if !(p.grid_deg > 0.0 && p.grid_deg <= 10.0) {
                return Err(JournalError::Refused(
                    "the grid must be between 0 and 10 degrees".into(),
                ));
            }
        }
        let areas = self.profile()?.map(|p| p.profile.areas).unwrap_or_default();
        let io = |e: std::io::Error| JournalError::Io {
            action: "write",
            path: out.to_path_buf(),
            cause: e,
        };
        let file = AtomicFile::create(out).map_err(io)?;
        let mut writer =
            DataWriter::new(BufWriter::new(file), format, public.is_some()).map_err(io)?;
        self.store.each_matching(&filter, |row| {
            writer
                .row(&row_values(&row, &areas, public.as_ref()))
                .map_err(io)
        })?;
        let (buffered, rows) = writer.finish().map_err(io)?;
        let file = buffered.into_inner().map_err(|e| io(e.into_error()))?;
        file.commit().map_err(io)?;
        Ok(rows)
    }
}

impl Journal {
    /// The latest revision of every observation matching `filter`, newest first, with its
    /// verification status: the incident queue.
    pub fn query(
        &self,
        filter: &ObservationFilter,
    ) -> Result<Vec<crate::store::QueueRow>, JournalError> {
        let mut rows = Vec::new();
        self.store
            .each_matching(filter, |row| -> Result<(), JournalError> {
                rows.push(row);
                Ok(())
            })?;
        Ok(rows)
    }

    fn rows_between(
        &self,
        from_ms: Option<i64>,
        to_ms: Option<i64>,
    ) -> Result<Vec<crate::store::QueueRow>, JournalError> {
        let filter = ObservationFilter {
            from_ms,
            to_ms,
            ..ObservationFilter::default()
        };
        let mut rows = Vec::new();
        self.store
            .each_matching(&filter, |row| -> Result<(), JournalError> {
                rows.push(row);
                Ok(())
            })?;
        Ok(rows)
    }

    /// The report for `[from, to)`, compared with the period of the same length before it.
    pub fn report(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Report, JournalError> {
        if to <= from {
            return Err(JournalError::Refused(
                "the report period ends before it starts".into(),
            ));
        }
        let chart_start =
            (to - chrono::Duration::days(crate::report::CHART_DAYS)).timestamp_millis();
        let previous_start = (from - (to - from)).timestamp_millis();
        let rows = self.rows_between(
            Some(chart_start.min(previous_start)),
            Some(to.timestamp_millis()),
        )?;
        let areas = self.profile()?.map(|p| p.profile.areas).unwrap_or_default();
        Ok(crate::report::build(&rows, from, to, &areas))
    }

    /// The escalation alerts the mission profile's rules raise over every observation held.
    pub fn alerts(&self) -> Result<Vec<Alert>, JournalError> {
        let Some(profile) = self.profile()? else {
            return Ok(Vec::new());
        };
        if profile.profile.alert_rules.is_empty() {
            return Ok(Vec::new());
        }
        let inputs: Vec<AlertInput> = self
            .rows_between(None, None)?
            .into_iter()
            .map(|row| {
                let o = row.revision.observation;
                AlertInput {
                    id: o.id,
                    observed_at_ms: o.observed_at.timestamp_millis(),
                    kind: o.kind,
                    category: o.category,
                    lat: o.lat,
                    lon: o.lon,
                }
            })
            .collect();
        Ok(crate::alerts::evaluate(
            &profile.profile.alert_rules,
            &profile.profile.areas,
            &inputs,
        ))
    }
}

/// Filters the store cannot apply, checked on each row as it streams by: the area (from the
/// mission profile's bounding boxes) and the party (the initiator).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueExtra {
    /// An area code of the mission profile; "" for observations outside every area.
    pub area: Option<String>,
    /// A party code (the initiator); "unknown" also matches observations without one.
    pub party: Option<String>,
}

/// One page of the incident queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePage {
    /// The rows, in the filter's order.
    pub rows: Vec<crate::store::QueueRow>,
    /// Whether more rows match after this page.
    pub more: bool,
}

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
        self.coordinators_only("the incident queue")?;
        let areas = if extra.area.is_some() {
            self.profile()?.map(|p| p.profile.areas).unwrap_or_default()
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
                    let code = crate::publish::area_of(&areas, o.lat, o.lon)
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

    /// The event an observation is linked to and every observation in it (itself included),
    /// or `None` when it stands alone.
    pub fn event_cluster(
        &self,
        id_part: &str,
    ) -> Result<Option<(String, Vec<Uuid>)>, JournalError> {
        let id = self.store.resolve_id(id_part)?;
        let Some(event) = self.store.event_of(id)? else {
            return Ok(None);
        };
        Ok(self.store.events()?.into_iter().find(|(e, _)| *e == event))
    }
}
