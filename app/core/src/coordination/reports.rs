//! The periodic report and the escalation alerts over the counted records: alerts are kept
//! with sweep checkpoints and resumed from the earliest record that changed.

use chrono::{DateTime, Utc};
use truce_sync::profile::{AlertRule, Area};

use crate::alerts::{Alert, AlertsCache};
use crate::journal::{Journal, JournalError};
use crate::model::{AlertSweep, ObservationFilter};
use crate::report::Report;
use crate::store::ResumedFrom;

impl Journal {
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
        let rows = self.query(&ObservationFilter {
            from_ms: Some(chart_start.min(previous_start)),
            to_ms: Some(to.timestamp_millis()),
            ..ObservationFilter::default()
        })?;
        let (areas, parties) = self
            .profile
            .as_ref()
            .map(|p| (p.profile.areas.clone(), p.profile.parties.clone()))
            .unwrap_or_default();
        let events = self.events()?;
        let alerts = self.alerts()?;
        Ok(crate::report::build(
            &rows,
            from,
            to,
            &crate::report::ReportContext {
                areas: &areas,
                parties: &parties,
                events: &events,
                alerts: &alerts,
                zone: self.mission_zone(),
            },
        ))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coordination::testkit::areas;
    use truce_sync::{ObservationRevision, Role};

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
        let mut template = MissionProfile::new(
            "East",
            uuid::Uuid::nil(),
            Utc::now().fixed_offset(),
            Vec::new(),
        );
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
                .export(&usb, crate::model::ExportRange::Pending)
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
                .export(&usb, crate::model::ExportRange::Pending)
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
}
