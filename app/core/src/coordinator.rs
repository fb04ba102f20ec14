//! Coordinator use cases: the verification trail, the devices seen, and data exports (full and
//! public). Field records are never altered here. Plain Rust types in and out.

use std::io::BufWriter;
use std::path::Path;

use chrono::{DateTime, Utc};
use truce_sync::profile::Area;
use truce_sync::verification::VerificationStatus;
use truce_sync::{Observation, ObservationKey, ObservationRevision};
use uuid::Uuid;

use crate::alerts::{Alert, AlertsCache};
use crate::fsutil::AtomicFile;
use crate::journal::{now, Journal, JournalError};
use crate::model::{KnownDevice, ObservationFilter, VerificationEvent};
use crate::publish::{row_values, DataFormat, DataWriter, PublicOptions};
use crate::report::Report;
use crate::store::ResumedFrom;
use truce_sync::profile::AlertRule;

/// Longest verification note, in characters.
pub const NOTE_MAX_CHARS: usize = 2_000;

impl Journal {
    /// Gives an observation a verification status, with a note; kept with who and when. The
    /// record itself is not touched.
    pub fn verify(
        &self,
        id_part: &str,
        status: VerificationStatus,
        note: &str,
    ) -> Result<VerificationEvent, JournalError> {
        self.require_coordinator("verification")?;
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
        let key = self.store.resolve(id_part)?;
        let event = VerificationEvent {
            status,
            note: note.to_owned(),
            by_observer: self.device.observer.clone(),
            by_device: self.device.device_id,
            at: now().to_rfc3339(),
        };
        self.store.add_verification(key, &event)?;
        Ok(event)
    }

    /// Links reports of the same event (two teams heard the same shelling). Joins the event one
    /// of them already belongs to; refuses to merge two different events. Returns the event id.
    pub fn link(&mut self, id_parts: &[String]) -> Result<String, JournalError> {
        self.require_coordinator("linking reports")?;
        if id_parts.len() < 2 {
            return Err(JournalError::Refused(
                "give at least two observations to link as one event".into(),
            ));
        }
        let keys = id_parts
            .iter()
            .map(|p| self.store.resolve(p))
            .collect::<Result<Vec<_>, _>>()?;
        let mut events = std::collections::BTreeSet::new();
        for key in &keys {
            if let Some(event) = self.store.event_of(*key)? {
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
            .link_event(&event, &keys, &self.device.observer, &now().to_rfc3339())?;
        Ok(event)
    }

    /// Every event and the observations linked to it.
    pub fn events(&self) -> Result<Vec<(String, Vec<ObservationKey>)>, JournalError> {
        Ok(self.store.events()?)
    }

    /// An observation's verification trail, oldest first (empty: unverified).
    pub fn verification_trail(
        &self,
        id_part: &str,
    ) -> Result<Vec<VerificationEvent>, JournalError> {
        let key = self.store.resolve(id_part)?;
        Ok(self.store.verification_trail(key)?)
    }

    /// Every device bundles came from, with its gaps, those still pending first.
    pub fn devices(&self) -> Result<Vec<KnownDevice>, JournalError> {
        self.require_coordinator("the device list")?;
        Ok(self.store.known_devices()?)
    }

    /// Accepts a device after its fingerprint was confirmed with its observer (by phone, by
    /// radio, in person): from now on its records count in alerts, reports and exports.
    /// `device_part` is a unique beginning or end of its id. Returns the device as it now
    /// stands, and whether it was pending until now.
    pub fn accept_device(
        &mut self,
        device_part: &str,
    ) -> Result<(KnownDevice, bool), JournalError> {
        self.require_coordinator("accepting devices")?;
        let wanted = device_part.trim().to_ascii_lowercase();
        let devices = self.devices()?;
        let matching: Vec<&KnownDevice> = devices
            .iter()
            .filter(|d| {
                let id = d.device_id.to_string();
                !wanted.is_empty() && (id.starts_with(&wanted) || id.ends_with(&wanted))
            })
            .collect();
        let device = match matching.as_slice() {
            [one] => (*one).clone(),
            [] => {
                return Err(JournalError::Refused(format!(
                    "no device matches `{device_part}`; `truce devices` lists the devices bundles came from"
                )))
            }
            _ => {
                return Err(JournalError::Refused(format!(
                    "`{device_part}` matches more than one device; give more characters of its id"
                )))
            }
        };
        let was_pending = self
            .store
            .accept_device(device.device_id, &now().to_rfc3339())?;
        *self.alerts_cache.borrow_mut() = None;
        let accepted = self
            .devices()?
            .into_iter()
            .find(|d| d.device_id == device.device_id)
            .unwrap_or(device);
        Ok((accepted, was_pending))
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
        let (areas, parties) = self
            .profile()?
            .map(|p| (p.profile.areas, p.profile.parties))
            .unwrap_or_default();
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
                .row(&row_values(&row, &areas, &parties, public.as_ref()))
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
    ) -> Result<Vec<crate::model::QueueRow>, JournalError> {
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
    ) -> Result<Vec<crate::model::QueueRow>, JournalError> {
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
        let areas = self
            .profile
            .as_ref()
            .map(|p| p.profile.areas.clone())
            .unwrap_or_default();
        Ok(crate::report::build(&rows, from, to, &areas))
    }

    /// The escalation alerts the mission profile's rules raise over every observation held.
    ///
    /// The alerts are kept in the journal with checkpoints of the sweep that raised them
    /// (migration 0009). When revisions were added since, the sweep resumes from the last
    /// checkpoint before the earliest time they touch, so an import of recent records costs
    /// only the recent part of the journal. A changed profile, or nothing kept, means one
    /// sweep from the start. Within one session the result is also held in memory.
    pub fn alerts(&self) -> Result<Vec<Alert>, JournalError> {
        Ok(self.alerts_swept()?.0)
    }

    /// [`Journal::alerts`], with what had to be swept to evaluate them: `None` when the kept
    /// alerts were current.
    pub fn alerts_swept(&self) -> Result<(Vec<Alert>, Option<AlertSweep>), JournalError> {
        let Some(profile) = self.profile()? else {
            return Ok((Vec::new(), None));
        };
        if profile.profile.alert_rules.is_empty() {
            return Ok((Vec::new(), None));
        }
        let key = (
            self.store.revisions_marker()?,
            self.store.alert_sweep_touched_from()?,
            profile.text.clone(),
        );
        if let Some(cache) = self.alerts_cache.borrow().as_ref() {
            if cache.key == key {
                return Ok((cache.alerts.clone(), None));
            }
        }
        let marker = key.0;
        let rules = &profile.profile.alert_rules;
        let areas = &profile.profile.areas;
        let digest = rules_digest(rules, areas)?;
        let kept = self.store.alert_sweep_marker(&digest)?;
        let mut swept = None;
        let current = crate::store::KeptSweep {
            revisions_marker: marker,
            touched_from_ms: None,
        };
        if kept != Some(current) {
            // A later marker than the journal's own means the kept alerts are not this
            // journal's history (a restored copy): sweep from the start. Otherwise resume
            // before the earliest time that new revisions, or a device accepted since, touch.
            let checkpoint = match kept {
                Some(kept) if kept.revisions_marker <= marker => {
                    let added = if kept.revisions_marker < marker {
                        self.store
                            .earliest_time_touched_since(kept.revisions_marker)?
                    } else {
                        None
                    };
                    let changed = match (added, kept.touched_from_ms) {
                        (Some(a), Some(t)) => Some(a.min(t)),
                        (a, t) => a.or(t),
                    };
                    match changed {
                        Some(changed_ms) => self.store.alert_checkpoint_at_or_before(changed_ms)?,
                        None => None,
                    }
                }
                _ => None,
            };
            let resumed = checkpoint.as_ref().map(|c| ResumedFrom {
                boundary_ms: c.boundary_ms,
                closed_alerts: c.closed_alerts,
            });
            let (outcome, observations) = self.sweep_alerts(rules, areas, checkpoint)?;
            swept = Some(AlertSweep {
                resumed_from_ms: resumed.map(|r| r.boundary_ms),
                observations,
            });
            // Keeping them is a saving, not a condition: on a full disk the alerts are still
            // given, evaluated from the start (the kept ones are as they were).
            if let Err(e) = self
                .store
                .keep_alert_sweep(&digest, marker, resumed, &outcome)
            {
                tracing::warn!(error = %e, "the escalation alerts could not be kept");
                return Ok((self.alerts_from_scratch()?, swept));
            }
        }
        let mut alerts = self.store.kept_alerts()?;
        crate::alerts::sort(&mut alerts);
        *self.alerts_cache.borrow_mut() = Some(AlertsCache {
            key,
            alerts: alerts.clone(),
        });
        Ok((alerts, swept))
    }

    /// The alerts evaluated by one sweep from the start, ignoring and keeping nothing: what
    /// the kept alerts must equal (`truce check` compares them), and the cost of a first
    /// evaluation.
    pub fn alerts_from_scratch(&self) -> Result<Vec<Alert>, JournalError> {
        let Some(profile) = self.profile()? else {
            return Ok(Vec::new());
        };
        let (outcome, _) =
            self.sweep_alerts(&profile.profile.alert_rules, &profile.profile.areas, None)?;
        let mut alerts = outcome.closed;
        alerts.extend(outcome.open_at_end);
        crate::alerts::sort(&mut alerts);
        Ok(alerts)
    }

    /// `truce check`: whether the kept alerts, brought up to date, are what one sweep from the
    /// start gives. If not, they are set aside (they are derived, and evaluated again on the
    /// next call) and the difference is reported.
    pub(crate) fn kept_alerts_problem(&self) -> Result<Option<String>, JournalError> {
        let kept = self.alerts();
        let afresh = self.alerts_from_scratch()?;
        if kept.as_ref().ok() == Some(&afresh) {
            return Ok(None);
        }
        self.store.forget_kept_alerts()?;
        *self.alerts_cache.borrow_mut() = None;
        Ok(Some(match kept {
            Ok(kept) => format!(
                "the kept escalation alerts ({}) differ from the alert rules evaluated afresh ({}); they were set aside and will be evaluated again",
                kept.len(),
                afresh.len()
            ),
            Err(e) => format!(
                "the kept escalation alerts could not be read ({e}); they were set aside and will be evaluated again"
            ),
        }))
    }

    /// One sweep of the rules, from `checkpoint` or the start; returns what it left and how
    /// many observations it read.
    fn sweep_alerts(
        &self,
        rules: &[AlertRule],
        areas: &[Area],
        checkpoint: Option<crate::alerts::Checkpoint>,
    ) -> Result<(crate::alerts::SweepOutcome, u64), JournalError> {
        let from_ms = checkpoint.as_ref().map(|c| c.boundary_ms);
        let mut sweep = match checkpoint {
            Some(c) => crate::alerts::Sweep::resume(rules, areas, c),
            None => crate::alerts::Sweep::new(rules, areas),
        }
        .checkpoint_every(self.alert_checkpoint_every);
        // Only observations some rule can count are read: the union of the rules' kinds and
        // categories, or any when one rule leaves them open.
        let union = |pick: fn(&AlertRule) -> &Vec<String>| -> Vec<String> {
            if rules.iter().any(|r| pick(r).is_empty()) {
                return Vec::new();
            }
            let set: std::collections::BTreeSet<&String> = rules.iter().flat_map(pick).collect();
            set.into_iter().cloned().collect()
        };
        let mut observations = 0u64;
        self.store.each_alert_input(
            &union(|r| &r.kinds),
            &union(|r| &r.categories),
            from_ms,
            |input| {
                observations += 1;
                sweep.push(input)
            },
        )?;
        Ok((sweep.finish_outcome(), observations))
    }
}

/// What evaluating the alerts swept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertSweep {
    /// Where the sweep resumed (a checkpoint's time, Unix milliseconds); `None` when it swept
    /// from the start.
    pub resumed_from_ms: Option<i64>,
    /// How many observations it read.
    pub observations: u64,
}

/// What the kept alerts depend on, as a digest: the rules, the areas, and the version of the
/// sweep that evaluates them (so a build that sweeps differently starts afresh).
fn rules_digest(rules: &[AlertRule], areas: &[Area]) -> Result<String, JournalError> {
    use sha2::{Digest, Sha256};
    // v2: observations are keyed by id and device (0011); v3: a place names the area of an
    // observation without a position.
    const SWEEP_VERSION: &str = "truce-alert-sweep v3";
    let json =
        serde_json::to_vec(&(SWEEP_VERSION, rules, areas)).map_err(|e| JournalError::Internal {
            what: "write out the alert rules",
            source: e.into(),
        })?;
    Ok(hex::encode(Sha256::digest(json)))
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
    pub rows: Vec<crate::model::QueueRow>,
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

    /// The event an observation is linked to and every observation in it (itself included),
    /// or `None` when it stands alone.
    pub fn event_cluster(
        &self,
        id_part: &str,
    ) -> Result<Option<(String, Vec<ObservationKey>)>, JournalError> {
        let key = self.store.resolve(id_part)?;
        let Some(event) = self.store.event_of(key)? else {
            return Ok(None);
        };
        Ok(self.store.events()?.into_iter().find(|(e, _)| *e == event))
    }

    /// Reports likely to be the same event as `id_part`, best first, at most
    /// [`LINK_SUGGESTIONS_MAX`]: same kind, observed within [`LINK_WINDOW_MS`], and within
    /// [`LINK_DISTANCE_KM`] (or in the same area of the mission profile when a position is
    /// missing). Itself, reports already in its event and reports of another event (which a
    /// link would refuse) are left out. See [`rank_link_suggestions`].
    pub fn link_suggestions(&self, id_part: &str) -> Result<Vec<LinkSuggestion>, JournalError> {
        self.require_coordinator("suggesting reports to link")?;
        let key = self.store.resolve(id_part)?;
        let Some(target) = self.store.history(key)?.pop() else {
            return Err(JournalError::UnknownObservation(id_part.to_owned()));
        };
        let at = target.observation.observed_at.timestamp_millis();
        let candidates = self.store.link_candidates(
            &target.observation.kind,
            at.saturating_sub(LINK_WINDOW_MS),
            at.saturating_add(LINK_WINDOW_MS),
            LINK_CANDIDATES_MAX,
        )?;
        let mut excluded = std::collections::HashSet::from([key]);
        if self.store.event_of(key)?.is_some() {
            for candidate in &candidates {
                let cid = candidate.key();
                if cid != key && self.store.event_of(cid)?.is_some() {
                    // In this event already, or in another one a link would refuse to merge.
                    excluded.insert(cid);
                }
            }
        }
        let areas = self
            .profile
            .as_ref()
            .map(|p| p.profile.areas.clone())
            .unwrap_or_default();
        Ok(rank_link_suggestions(
            &target, candidates, &excluded, &areas,
        ))
    }
}

/// How far apart in time two reports of one event may be: ±3 hours.
pub const LINK_WINDOW_MS: i64 = 3 * 60 * 60 * 1000;
/// How far apart two reports of one event may be, when both have a position.
pub const LINK_DISTANCE_KM: f64 = 10.0;
/// The most suggestions given.
pub const LINK_SUGGESTIONS_MAX: usize = 5;
/// The most candidates read from the store for one suggestion list.
const LINK_CANDIDATES_MAX: u32 = 5_000;

/// Why a suggested report is thought to be near.
#[derive(Debug, Clone, PartialEq)]
pub enum Nearness {
    /// Both have a position: the distance between them, in kilometres.
    Distance(f64),
    /// A position is missing; both are in this area of the mission profile (its label).
    Area(String),
}

/// A report that is likely the same event as the one open.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkSuggestion {
    /// Its latest revision.
    pub revision: ObservationRevision,
    /// How near it is.
    pub nearness: Nearness,
    /// How far apart in time, in minutes (never negative).
    pub minutes_apart: i64,
}

/// The great-circle distance between two WGS84 positions, in kilometres (haversine, mean
/// Earth radius).
pub fn haversine_km(lat1: f64, lon1: f64, lat2: f64, lon2: f64) -> f64 {
    const EARTH_RADIUS_KM: f64 = 6_371.008_8;
    let (phi1, phi2) = (lat1.to_radians(), lat2.to_radians());
    let d_phi = (lat2 - lat1).to_radians();
    let d_lambda = (lon2 - lon1).to_radians();
    let a = (d_phi / 2.0).sin().powi(2) + phi1.cos() * phi2.cos() * (d_lambda / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * a.sqrt().min(1.0).asin()
}

/// The mission-profile area of an observation ([`truce_sync::profile::area_of`], the one rule
/// every screen and output uses).
pub fn observation_area<'a>(areas: &'a [Area], o: &Observation) -> Option<&'a Area> {
    truce_sync::profile::area_of(areas, o.lat, o.lon, o.place.as_deref())
}

/// The pure ranking behind [`Journal::link_suggestions`]. A candidate qualifies when it is not
/// `target` nor in `excluded`, has the same kind, was observed within [`LINK_WINDOW_MS`] of it,
/// and either both have a position and are at most [`LINK_DISTANCE_KM`] apart, or a position
/// is missing and both are in the same area. Best first: the smallest sum of the time apart
/// (as a share of the window) and the distance (as a share of the limit; an area match counts
/// as the limit, being less certain than any measured distance); then the closest in time.
pub fn rank_link_suggestions(
    target: &ObservationRevision,
    candidates: Vec<ObservationRevision>,
    excluded: &std::collections::HashSet<ObservationKey>,
    areas: &[Area],
) -> Vec<LinkSuggestion> {
    let t = &target.observation;
    let at = t.observed_at.timestamp_millis();
    let target_area = observation_area(areas, t);
    let mut ranked: Vec<(f64, i64, LinkSuggestion)> = candidates
        .into_iter()
        .filter_map(|candidate| {
            let o = &candidate.observation;
            if candidate.key() == target.key()
                || excluded.contains(&candidate.key())
                || o.kind != t.kind
            {
                return None;
            }
            let apart_ms = (o.observed_at.timestamp_millis() - at).abs();
            if apart_ms > LINK_WINDOW_MS {
                return None;
            }
            let (nearness, space) = match (t.lat, t.lon, o.lat, o.lon) {
                (Some(lat1), Some(lon1), Some(lat2), Some(lon2)) => {
                    let km = haversine_km(lat1, lon1, lat2, lon2);
                    if km.is_nan() || km > LINK_DISTANCE_KM {
                        return None;
                    }
                    (Nearness::Distance(km), km / LINK_DISTANCE_KM)
                }
                _ => {
                    let area = target_area?;
                    if observation_area(areas, o)?.code != area.code {
                        return None;
                    }
                    (Nearness::Area(area.label.clone()), 1.0)
                }
            };
            let score = apart_ms as f64 / LINK_WINDOW_MS as f64 + space;
            Some((
                score,
                apart_ms,
                LinkSuggestion {
                    revision: candidate,
                    nearness,
                    minutes_apart: apart_ms / 60_000,
                },
            ))
        })
        .collect();
    ranked.sort_by(|a, b| {
        a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(
            a.2.revision
                .observation
                .id
                .cmp(&b.2.revision.observation.id),
        )
    });
    ranked
        .into_iter()
        .take(LINK_SUGGESTIONS_MAX)
        .map(|(_, _, s)| s)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use truce_sync::Role;

    fn rev(
        kind: &str,
        at: &str,
        position: Option<(f64, f64)>,
        place: Option<&str>,
    ) -> ObservationRevision {
        let mut json = serde_json::json!({
            "id": Uuid::now_v7().to_string(),
            "kind": kind,
            "category": if kind == "violation" { "shelling" } else { "mine_uxo" },
            "method": "heard",
            "observed_at": at,
        });
        if let Some((lat, lon)) = position {
            json["lat"] = lat.into();
            json["lon"] = lon.into();
        }
        if let Some(place) = place {
            json["place"] = place.into();
        }
        ObservationRevision {
            observation: serde_json::from_value(json).expect("observation"),
            revision: 1,
            recorded_at: DateTime::parse_from_rfc3339("2026-11-24T08:00:00+00:00").expect("time"),
            device_id: Uuid::nil(),
            observer: "Ana".into(),
        }
    }

    fn areas() -> Vec<Area> {
        vec![
            Area {
                code: "north".into(),
                label: "North".into(),
                bbox: Some([37.0, 48.0, 38.0, 49.0]),
            },
            Area {
                code: "south".into(),
                label: "South".into(),
                bbox: Some([37.0, 47.0, 38.0, 48.0]),
            },
        ]
    }

    fn ids(list: &[LinkSuggestion]) -> Vec<Uuid> {
        list.iter().map(|s| s.revision.observation.id).collect()
    }

    /// Every observation the coordinator holds, as the alert rules see it, evaluated from
    /// scratch: the oracle for the kept, resumed sweep.
    fn evaluated_afresh(journal: &Journal) -> Vec<Alert> {
        let profile = journal.profile().expect("profile").expect("a profile");
        let mut inputs = Vec::new();
        journal
            .store
            .each_alert_input(&[], &[], None, |o| inputs.push(o.clone()))
            .expect("inputs");
        crate::alerts::evaluate(
            &profile.profile.alert_rules,
            &profile.profile.areas,
            &inputs,
        )
    }

    #[test]
    fn kept_alerts_resume_from_a_checkpoint_and_match_a_sweep_from_scratch() {
        use age::secrecy::SecretString;
        use truce_sync::profile::MissionProfile;
        let pass = SecretString::from("kept alerts test".to_owned());
        let root = tempfile::tempdir().expect("temp dir");
        let open = |name: &str, role: Role| {
            let profile = crate::Profile {
                observer: name.into(),
                team: None,
                role,
            };
            Journal::init(
                &root.path().join(name),
                &pass,
                profile,
                crate::KdfCost::WorkFactor(10),
            )
            .expect("journal")
        };
        let mut coordinator = open("hq", Role::Coordinator);
        coordinator.alert_checkpoint_every = 4;
        let mut template = MissionProfile::new("East", Utc::now().fixed_offset(), Vec::new());
        template.areas = areas();
        template.alert_rules = vec![
            AlertRule {
                name: "shelling".into(),
                kinds: vec!["violation".into()],
                categories: vec!["shelling".into()],
                area: None,
                window_hours: 6,
                threshold: 3,
                level: 3,
            },
            AlertRule {
                name: "anything in the north".into(),
                kinds: Vec::new(),
                categories: Vec::new(),
                area: Some("north".into()),
                window_hours: 2,
                threshold: 2,
                level: 2,
            },
        ];
        let text = coordinator
            .create_profile("East", &[], Some(template))
            .expect("profile");
        let mut device = open("ana", Role::Monitor);
        device.import_profile(&text).expect("profile installed");
        let usb = root.path().join("usb");
        std::fs::create_dir_all(&usb).expect("usb");
        let at = |minutes: u64| {
            (DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").expect("time")
                + chrono::Duration::minutes(minutes as i64))
            .to_rfc3339()
        };
        let mut next = crate::alerts::seeded(0x51_7cc1_b727_220a);
        let mut record = |device: &mut Journal, from_minute: u64, to_minute: u64| {
            let category = if next(3) == 0 {
                "small_arms"
            } else {
                "shelling"
            };
            let lat = if next(2) == 0 { 48.5 } else { 47.5 };
            let minute = from_minute + next(to_minute - from_minute);
            let json = serde_json::json!({
                "kind": "violation", "category": category, "method": "heard",
                "observed_at": at(minute), "lat": lat, "lon": 37.5,
            });
            device
                .record(json.as_object().cloned().expect("object"))
                .expect("recorded")
        };
        let day = 24 * 60;
        let send = |coordinator: &mut Journal, device: &mut Journal| {
            let bundle = device
                .export(&usb, crate::exchange::ExportRange::Pending)
                .expect("export")
                .expect("something to export");
            let report = coordinator.import_bundle(&bundle.path).expect("import");
            assert!(report.refused.is_none(), "{:?}", report.refused);
            let (alerts, swept) = coordinator.alerts_swept().expect("alerts");
            assert_eq!(alerts, evaluated_afresh(coordinator));
            swept.expect("new revisions are swept")
        };

        // Three days of reports.
        let held: Vec<_> = (0..90).map(|_| record(&mut device, 0, 3 * day)).collect();
        let first = send(&mut coordinator, &mut device);
        assert_eq!(first.resumed_from_ms, None, "nothing was kept yet");
        assert!(
            coordinator.alerts().expect("alerts").is_empty(),
            "a device not accepted yet counts in no alert"
        );
        let (_, was_pending) = coordinator
            .accept_device(&device.device().device_id.to_string())
            .expect("accepted");
        assert!(was_pending);
        let (alerts, swept) = coordinator.alerts_swept().expect("alerts");
        let first = swept.expect("accepting a device sweeps its records");
        assert_eq!(first.observations, 90);
        assert_eq!(alerts, evaluated_afresh(&coordinator));
        assert!(!alerts.is_empty());

        // The third day: new reports, one held report moved into it from the second day, one
        // given another category. The sweep resumes in the second day.
        for _ in 0..15 {
            record(&mut device, 2 * day, 3 * day);
        }
        let on_day_two = |r: &&ObservationRevision| {
            let ms = r.observation.observed_at.timestamp_millis();
            let start = DateTime::parse_from_rfc3339("2026-11-20T00:00:00Z").expect("time");
            ms >= (start + chrono::Duration::days(1)).timestamp_millis()
                && ms < (start + chrono::Duration::days(2)).timestamp_millis()
        };
        let moved = held.iter().find(on_day_two).expect("a day-two report");
        let mut patch = serde_json::Map::new();
        patch.insert("observed_at".into(), at(2 * day + 90).into());
        device
            .amend(&moved.observation.id.to_string(), patch)
            .expect("moved");
        let later: Vec<_> = held.iter().filter(on_day_two).collect();
        let mut patch = serde_json::Map::new();
        patch.insert("category".into(), "armed_presence".into());
        device
            .amend(&later[later.len() - 1].observation.id.to_string(), patch)
            .expect("recategorised");
        let second = send(&mut coordinator, &mut device);
        let resumed = second.resumed_from_ms.expect("resumed from a checkpoint");
        assert!(
            resumed <= moved.observation.observed_at.timestamp_millis(),
            "the checkpoint is before the moved report's old time"
        );
        assert!(
            second.observations < first.observations,
            "{second:?} against {first:?}"
        );

        // Asked again, on a journal opened afresh: the kept alerts, nothing swept.
        drop(coordinator);
        let mut coordinator = Journal::open(&root.path().join("hq"), &pass).expect("reopen");
        coordinator.alert_checkpoint_every = 4;
        let (alerts, swept) = coordinator.alerts_swept().expect("alerts");
        assert_eq!(swept, None);
        assert_eq!(alerts, evaluated_afresh(&coordinator));

        // The earliest report revised: nothing before it to resume from.
        let earliest = held
            .iter()
            .min_by_key(|r| r.observation.observed_at)
            .expect("held");
        let mut patch = serde_json::Map::new();
        patch.insert("category".into(), "small_arms".into());
        device
            .amend(&earliest.observation.id.to_string(), patch)
            .expect("amended");
        let third = send(&mut coordinator, &mut device);
        assert_eq!(third.resumed_from_ms, None);

        // A second device whose reports are all on the third day: pending, it changes nothing;
        // accepted, the sweep resumes from a checkpoint before its earliest report.
        let mut bo = open("bo", Role::Monitor);
        bo.import_profile(&text).expect("profile installed");
        let bo_held: Vec<_> = (0..12)
            .map(|_| record(&mut bo, 2 * day + 600, 3 * day))
            .collect();
        send(&mut coordinator, &mut bo);
        let before_accepting = coordinator.alerts().expect("alerts");
        coordinator
            .accept_device(&bo.device().device_id.to_string())
            .expect("accepted");
        let (alerts, swept) = coordinator.alerts_swept().expect("alerts");
        let swept = swept.expect("accepting a device sweeps again");
        let earliest_bo = bo_held
            .iter()
            .map(|r| r.observation.observed_at.timestamp_millis())
            .min()
            .expect("bo's reports");
        let resumed = swept.resumed_from_ms.expect("resumed from a checkpoint");
        assert!(resumed <= earliest_bo, "{resumed} after {earliest_bo}");
        assert_eq!(alerts, evaluated_afresh(&coordinator));
        assert_ne!(alerts, before_accepting, "bo's reports count now");

        // `truce check` finds kept alerts that went wrong, and sets them aside.
        assert_eq!(coordinator.check().expect("check"), Vec::<String>::new());
        coordinator.store.drop_first_kept_alert().expect("damaged");
        drop(coordinator);
        let coordinator = Journal::open(&root.path().join("hq"), &pass).expect("reopen");
        let problems = coordinator.check().expect("check");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("kept escalation alerts"),
            "{problems:?}"
        );
        assert_eq!(coordinator.check().expect("check"), Vec::<String>::new());
        assert_eq!(
            coordinator.alerts().expect("alerts"),
            evaluated_afresh(&coordinator)
        );

        // A full disk: the alerts are still given, and what was kept stays as it was.
        let mut coordinator = coordinator;
        coordinator.alert_checkpoint_every = 4;
        coordinator.store.refuse_keeping_alerts().expect("trigger");
        let digest = {
            let profile = coordinator.profile().expect("profile").expect("a profile");
            rules_digest(&profile.profile.alert_rules, &profile.profile.areas).expect("digest")
        };
        let kept = coordinator
            .store
            .alert_sweep_marker(&digest)
            .expect("marker");
        assert!(kept.is_some());
        for _ in 0..5 {
            record(&mut device, 2 * day, 3 * day);
        }
        let (alerts, swept) = {
            let bundle = device
                .export(&usb, crate::exchange::ExportRange::Pending)
                .expect("export")
                .expect("something to export");
            coordinator.import_bundle(&bundle.path).expect("import");
            coordinator.alerts_swept().expect("alerts on a full disk")
        };
        assert!(swept.is_some());
        assert_eq!(alerts, evaluated_afresh(&coordinator));
        assert_eq!(
            coordinator
                .store
                .alert_sweep_marker(&digest)
                .expect("marker"),
            kept
        );
    }

    #[test]
    fn haversine_matches_known_distances() {
        // One degree of latitude is about 111.2 km anywhere.
        assert!((haversine_km(48.0, 37.0, 49.0, 37.0) - 111.19).abs() < 0.1);
        // Kyiv to Kharkiv, about 410 km.
        let d = haversine_km(50.4501, 30.5234, 49.9935, 36.2304);
        assert!((405.0..415.0).contains(&d), "{d}");
        assert_eq!(haversine_km(48.5, 37.5, 48.5, 37.5), 0.0);
    }

    #[test]
    fn suggestions_are_near_in_time_and_space_and_of_the_same_kind() {
        let target = rev(
            "violation",
            "2026-11-24T05:00:00+00:00",
            Some((48.5, 37.5)),
            None,
        );
        let close = rev(
            "violation",
            "2026-11-24T05:20:00+00:00",
            Some((48.51, 37.51)),
            None,
        );
        let later = rev(
            "violation",
            "2026-11-24T07:50:00+02:00",
            Some((48.52, 37.5)),
            None,
        );
        let edge = rev(
            "violation",
            "2026-11-24T08:00:00+00:00",
            Some((48.5, 37.5)),
            None,
        );
        let too_late = rev(
            "violation",
            "2026-11-24T08:01:00+00:00",
            Some((48.5, 37.5)),
            None,
        );
        let too_early = rev(
            "violation",
            "2026-11-24T01:59:00+00:00",
            Some((48.5, 37.5)),
            None,
        );
        let too_far = rev(
            "violation",
            "2026-11-24T05:05:00+00:00",
            Some((48.6, 37.4)),
            None,
        );
        let other_kind = rev(
            "incident",
            "2026-11-24T05:05:00+00:00",
            Some((48.5, 37.5)),
            None,
        );
        let linked = rev(
            "violation",
            "2026-11-24T05:01:00+00:00",
            Some((48.5, 37.5)),
            None,
        );
        let excluded = HashSet::from([linked.key()]);
        let candidates = vec![
            too_far.clone(),
            edge.clone(),
            target.clone(),
            other_kind,
            later.clone(),
            too_late,
            too_early,
            linked,
            close.clone(),
        ];
        let got = rank_link_suggestions(&target, candidates, &excluded, &areas());
        assert_eq!(
            ids(&got),
            vec![
                close.observation.id,
                later.observation.id,
                edge.observation.id
            ],
            "{got:#?}"
        );
        assert_eq!(got[0].minutes_apart, 20);
        let Nearness::Distance(km) = got[0].nearness else {
            panic!("a distance: {got:#?}")
        };
        assert!((1.0..1.6).contains(&km), "{km}");
        assert_eq!(
            got[1].minutes_apart, 50,
            "time zones are compared as instants"
        );
    }

    #[test]
    fn without_a_position_the_area_decides() {
        let target = rev(
            "violation",
            "2026-11-24T05:00:00+00:00",
            None,
            Some("north"),
        );
        let in_north = rev(
            "violation",
            "2026-11-24T05:30:00+00:00",
            Some((48.9, 37.9)),
            None,
        );
        let named_north = rev(
            "violation",
            "2026-11-24T04:00:00+00:00",
            None,
            Some(" North "),
        );
        let in_south = rev(
            "violation",
            "2026-11-24T05:10:00+00:00",
            Some((47.5, 37.5)),
            None,
        );
        let nowhere = rev(
            "violation",
            "2026-11-24T05:10:00+00:00",
            None,
            Some("Bridge"),
        );
        let got = rank_link_suggestions(
            &target,
            vec![nowhere, in_south, named_north.clone(), in_north.clone()],
            &HashSet::new(),
            &areas(),
        );
        assert_eq!(
            ids(&got),
            vec![in_north.observation.id, named_north.observation.id]
        );
        assert_eq!(got[0].nearness, Nearness::Area("North".into()));
        // No area to go by: nothing is suggested.
        let lost = rev("violation", "2026-11-24T05:00:00+00:00", None, None);
        assert!(rank_link_suggestions(&lost, vec![in_north], &HashSet::new(), &areas()).is_empty());
    }

    #[test]
    fn at_most_five_best_first() {
        let target = rev(
            "violation",
            "2026-11-24T05:00:00+00:00",
            Some((48.5, 37.5)),
            None,
        );
        let candidates: Vec<ObservationRevision> = (0..8)
            .rev()
            .map(|i| {
                rev(
                    "violation",
                    &format!("2026-11-24T05:{:02}:00+00:00", 10 + i * 5),
                    Some((48.5 + 0.005 * f64::from(i), 37.5)),
                    None,
                )
            })
            .collect();
        let expected: Vec<Uuid> = candidates
            .iter()
            .rev()
            .take(5)
            .map(|r| r.observation.id)
            .collect();
        let got = rank_link_suggestions(&target, candidates, &HashSet::new(), &areas());
        assert_eq!(ids(&got), expected);
    }
}
