//! Escalation alerts: the mission profile's threshold rules evaluated over observations, as a
//! pure function ("at least N matching observations in one area within H hours").

use std::collections::{BTreeMap, VecDeque};

use truce_sync::profile::{AlertRule, Area};
use truce_sync::ObservationKey;

use truce_sync::profile::area_of;

/// What an alert rule needs of an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertInput {
    /// The observation.
    pub key: ObservationKey,
    /// When it started, Unix milliseconds.
    pub observed_at_ms: i64,
    /// Its kind.
    pub kind: String,
    /// Its category.
    pub category: String,
    /// Latitude, for the area.
    pub lat: Option<f64>,
    /// Longitude, for the area.
    pub lon: Option<f64>,
    /// The named place, for the area when there is no position (read only then).
    pub place: Option<String>,
}

/// A rule that fired, with the records that made it fire.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Alert {
    /// The rule's name.
    pub rule: String,
    /// Its level on the severity ladder.
    pub level: u8,
    /// The area code ("" for observations outside every area).
    pub area: String,
    /// First and last observation times in the window, Unix milliseconds.
    pub from_ms: i64,
    /// Last observation time in the window.
    pub to_ms: i64,
    /// The observations in the window, oldest first.
    pub records: Vec<ObservationKey>,
}

/// Evaluates every rule. Windows are anchored at each observation and do not overlap within
/// one rule and area: once a window fires, the next starts after it.
pub fn evaluate(rules: &[AlertRule], areas: &[Area], observations: &[AlertInput]) -> Vec<Alert> {
    let mut sorted: Vec<&AlertInput> = observations.iter().collect();
    sorted.sort_by_key(|o| (o.observed_at_ms, o.key));
    let mut sweep = Sweep::new(rules, areas);
    for o in sorted {
        sweep.push(o);
    }
    sweep.finish()
}

/// How many observations a sweep takes between checkpoints: resuming costs at most this many
/// observations before the first one that changed, plus those after it.
pub const CHECKPOINT_EVERY: usize = 4096;

/// A checkpoint is skipped when its open windows hold more observations than this, so a rule
/// that never fires over a dense journal does not make every checkpoint huge.
const CHECKPOINT_MAX_RECORDS: usize = 50_000;

/// The sweep's whole state just before its first observation at `boundary_ms`.
#[derive(Debug, Clone, PartialEq)]
pub struct Checkpoint {
    /// Every observation before this time, and none at or after it, had been swept.
    pub boundary_ms: i64,
    /// How many alerts had closed by then.
    pub closed_alerts: usize,
    /// The windows still open, non-empty ones only.
    pub windows: Vec<OpenWindow>,
}

/// One rule and area's open window: the observations from its anchor on, oldest first.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenWindow {
    /// The rule's index in the profile's rules.
    pub rule: usize,
    /// The area code ("" outside every area).
    pub area: String,
    /// Time (Unix milliseconds) and id of each observation.
    pub records: Vec<(i64, ObservationKey)>,
}

/// What a sweep leaves behind, to be kept and resumed from.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepOutcome {
    /// Alerts closed during this sweep, in the order they closed. They stand whatever comes
    /// later in time.
    pub closed: Vec<Alert>,
    /// Alerts whose window was still open at the end: a later observation may still join them.
    pub open_at_end: Vec<Alert>,
    /// Checkpoints taken during this sweep, oldest first.
    pub checkpoints: Vec<Checkpoint>,
}

/// The rules evaluated over observations fed in time order (then by id), one at a time: the
/// same alerts as [`evaluate`], holding only the observations of one window per rule and area,
/// so a million records stream through in constant memory. Every [`CHECKPOINT_EVERY`]
/// observations it records its state, so a later sweep can [`Sweep::resume`] from there.
pub struct Sweep<'a> {
    rules: &'a [AlertRule],
    areas: &'a [Area],
    /// Per rule and area: the observations from the window's anchor on, oldest first.
    open: Vec<BTreeMap<String, VecDeque<(i64, ObservationKey)>>>,
    /// Alerts closed before this sweep started (when it resumed from a checkpoint).
    closed_before: usize,
    alerts: Vec<Alert>,
    checkpoints: Vec<Checkpoint>,
    checkpoint_every: usize,
    since_checkpoint: usize,
    last_ms: Option<i64>,
}

impl<'a> Sweep<'a> {
    /// A sweep of `rules` from the start, placing observations in `areas`.
    pub fn new(rules: &'a [AlertRule], areas: &'a [Area]) -> Self {
        Sweep {
            rules,
            areas,
            open: rules.iter().map(|_| BTreeMap::new()).collect(),
            closed_before: 0,
            alerts: Vec::new(),
            checkpoints: Vec::new(),
            checkpoint_every: CHECKPOINT_EVERY,
            since_checkpoint: 0,
            last_ms: None,
        }
    }

    /// A sweep of the same rules and areas that continues from `checkpoint`; feed it the
    /// observations from `checkpoint.boundary_ms` on. Windows of rules that no longer exist
    /// are dropped (a checkpoint belongs to one set of rules; see the caller's digest).
    pub fn resume(rules: &'a [AlertRule], areas: &'a [Area], checkpoint: Checkpoint) -> Self {
        let mut sweep = Sweep::new(rules, areas);
        sweep.closed_before = checkpoint.closed_alerts;
        for window in checkpoint.windows {
            if let Some(open) = sweep.open.get_mut(window.rule) {
                open.insert(window.area, window.records.into());
            }
        }
        sweep
    }

    /// Takes a checkpoint every `n` observations instead of [`CHECKPOINT_EVERY`].
    pub fn checkpoint_every(mut self, n: usize) -> Self {
        self.checkpoint_every = n.max(1);
        self
    }

    /// The next observation; none may come before the one fed last.
    pub fn push(&mut self, o: &AlertInput) {
        if self.since_checkpoint >= self.checkpoint_every
            && self.last_ms.is_some_and(|last| o.observed_at_ms > last)
        {
            self.take_checkpoint(o.observed_at_ms);
        }
        self.last_ms = Some(o.observed_at_ms);
        self.since_checkpoint += 1;
        let mut area: Option<String> = None;
        for (i, rule) in self.rules.iter().enumerate() {
            let kind_ok = rule.kinds.is_empty() || rule.kinds.contains(&o.kind);
            let category_ok = rule.categories.is_empty() || rule.categories.contains(&o.category);
            if !(kind_ok && category_ok) {
                continue;
            }
            let area = area.get_or_insert_with(|| {
                area_of(self.areas, o.lat, o.lon, o.place.as_deref())
                    .map(|a| a.code.clone())
                    .unwrap_or_default()
            });
            if rule.area.as_ref().is_some_and(|wanted| wanted != area) {
                continue;
            }
            let window = self.open[i].entry(area.clone()).or_default();
            let window_ms = i64::from(rule.window_hours) * 3_600_000;
            // Windows anchored before this observation's reach are complete: each one fires
            // or moves its anchor on, as in the sweep over a sorted list.
            while window
                .front()
                .is_some_and(|(anchor, _)| o.observed_at_ms - anchor >= window_ms)
            {
                if window.len() >= threshold(rule) {
                    self.alerts.push(fire(rule, area, window));
                    window.clear();
                } else {
                    window.pop_front();
                }
            }
            window.push_back((o.observed_at_ms, o.key));
        }
    }

    /// Records the state as it stands before the first observation at `boundary_ms`.
    fn take_checkpoint(&mut self, boundary_ms: i64) {
        let held: usize = self
            .open
            .iter()
            .flat_map(|o| o.values())
            .map(VecDeque::len)
            .sum();
        if held > CHECKPOINT_MAX_RECORDS {
            return;
        }
        let windows = self
            .open
            .iter()
            .enumerate()
            .flat_map(|(rule, open)| {
                open.iter()
                    .filter(|(_, window)| !window.is_empty())
                    .map(move |(area, window)| OpenWindow {
                        rule,
                        area: area.clone(),
                        records: window.iter().copied().collect(),
                    })
            })
            .collect();
        self.checkpoints.push(Checkpoint {
            boundary_ms,
            closed_alerts: self.closed_before + self.alerts.len(),
            windows,
        });
        self.since_checkpoint = 0;
    }

    /// What the sweep leaves: the alerts closed along the way, those still open at the end,
    /// and the checkpoints.
    pub fn finish_outcome(mut self) -> SweepOutcome {
        let mut open_at_end = Vec::new();
        for (rule, open) in self.rules.iter().zip(std::mem::take(&mut self.open)) {
            for (area, mut window) in open {
                // Everything left lies within the window of its oldest observation.
                if window.len() >= threshold(rule) {
                    open_at_end.push(fire(rule, &area, &mut window));
                }
            }
        }
        SweepOutcome {
            closed: self.alerts,
            open_at_end,
            checkpoints: self.checkpoints,
        }
    }

    /// The alerts, highest level first, then the most recent.
    pub fn finish(self) -> Vec<Alert> {
        let outcome = self.finish_outcome();
        let mut alerts = outcome.closed;
        alerts.extend(outcome.open_at_end);
        sort(&mut alerts);
        alerts
    }
}

/// Puts alerts in the order they are shown: highest level first, then the most recent.
pub fn sort(alerts: &mut [Alert]) {
    alerts.sort_by(|a, b| {
        (b.level, b.to_ms, &a.rule, &a.area).cmp(&(a.level, a.to_ms, &b.rule, &b.area))
    });
}

fn threshold(rule: &AlertRule) -> usize {
    usize::try_from(rule.threshold).unwrap_or(usize::MAX).max(1)
}

fn fire(rule: &AlertRule, area: &str, window: &mut VecDeque<(i64, ObservationKey)>) -> Alert {
    Alert {
        rule: rule.name.clone(),
        level: rule.level,
        area: area.to_owned(),
        from_ms: window.front().map_or(0, |w| w.0),
        to_ms: window.back().map_or(0, |w| w.0),
        records: window.drain(..).map(|(_, id)| id).collect(),
    }
}

/// Tests: a small deterministic generator; `next(n)` gives a number below `n`.
#[cfg(test)]
pub(crate) fn seeded(mut seed: u64) -> impl FnMut(u64) -> u64 {
    move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    }
}

/// Alerts as last evaluated, and what they were evaluated over: the revisions marker of the
/// store and the mission profile's text.
#[derive(Debug)]
pub(crate) struct AlertsCache {
    pub(crate) key: (i64, Option<i64>, String),
    pub(crate) alerts: Vec<Alert>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(threshold: u32) -> AlertRule {
        AlertRule {
            name: "heavy weapons".into(),
            kinds: vec!["violation".into()],
            categories: vec!["shelling".into()],
            area: None,
            window_hours: 24,
            threshold,
            level: 3,
        }
    }

    fn area() -> Area {
        Area {
            code: "north".into(),
            label: "North".into(),
            bbox: Some([37.0, 48.0, 38.0, 49.0]),
        }
    }

    fn obs(hour: i64, category: &str, lat: f64) -> AlertInput {
        AlertInput {
            key: ObservationKey {
                id: uuid::Uuid::now_v7(),
                device_id: uuid::Uuid::nil(),
            },
            observed_at_ms: hour * 3_600_000,
            kind: "violation".into(),
            category: category.into(),
            lat: Some(lat),
            lon: Some(37.5),
            place: None,
        }
    }

    /// Two rules with random thresholds and windows: shelling anywhere, and anything (in the
    /// north only, if `north_only`).
    fn random_rules(next: &mut impl FnMut(u64) -> u64, north_only: bool) -> Vec<AlertRule> {
        let mut first = rule(1 + next(6) as u32);
        first.window_hours = 1 + next(30) as u32;
        let mut second = rule(1 + next(4) as u32);
        second.name = "anything".into();
        second.categories = Vec::new();
        second.level = 2;
        second.window_hours = 1 + next(12) as u32;
        if north_only {
            second.area = Some("north".into());
        }
        vec![first, second]
    }

    /// An observation at a random hour in `[from_hour, to_hour)`: mostly shelling, mostly in
    /// the north.
    fn random_obs(next: &mut impl FnMut(u64) -> u64, from_hour: u64, to_hour: u64) -> AlertInput {
        let category = if next(3) == 0 {
            "small_arms"
        } else {
            "shelling"
        };
        let lat = if next(4) == 0 { 10.0 } else { 48.5 };
        obs(
            (from_hour + next(to_hour - from_hour)) as i64,
            category,
            lat,
        )
    }

    /// The rule over a sorted list, as first written: the oracle the streaming sweep must match.
    fn oracle(rules: &[AlertRule], areas: &[Area], observations: &[AlertInput]) -> Vec<Alert> {
        let mut alerts = Vec::new();
        for rule in rules {
            let mut by_area: BTreeMap<String, Vec<&AlertInput>> = BTreeMap::new();
            for o in observations {
                let kind_ok = rule.kinds.is_empty() || rule.kinds.contains(&o.kind);
                let category_ok =
                    rule.categories.is_empty() || rule.categories.contains(&o.category);
                let area = area_of(areas, o.lat, o.lon, o.place.as_deref())
                    .map(|a| a.code.clone())
                    .unwrap_or_default();
                if kind_ok && category_ok && rule.area.as_ref().is_none_or(|w| w == &area) {
                    by_area.entry(area).or_default().push(o);
                }
            }
            let window_ms = i64::from(rule.window_hours) * 3_600_000;
            for (area, mut list) in by_area {
                list.sort_by_key(|o| (o.observed_at_ms, o.key));
                let mut start = 0;
                while start < list.len() {
                    let mut end = start;
                    while end + 1 < list.len()
                        && list[end + 1].observed_at_ms - list[start].observed_at_ms < window_ms
                    {
                        end += 1;
                    }
                    if end + 1 - start >= threshold(rule) {
                        alerts.push(Alert {
                            rule: rule.name.clone(),
                            level: rule.level,
                            area: area.clone(),
                            from_ms: list[start].observed_at_ms,
                            to_ms: list[end].observed_at_ms,
                            records: list[start..=end].iter().map(|o| o.key).collect(),
                        });
                        start = end + 1;
                    } else {
                        start += 1;
                    }
                }
            }
        }
        alerts.sort_by(|a, b| {
            (b.level, b.to_ms, &a.rule, &a.area).cmp(&(a.level, a.to_ms, &b.rule, &b.area))
        });
        alerts
    }

    #[test]
    fn the_streaming_sweep_matches_the_sweep_over_a_sorted_list() {
        let mut next = seeded(0x9e37_79b9_7f4a_7c15u64);
        let mut fired = 0;
        for case in 0..300 {
            let rules = random_rules(&mut next, case % 2 == 0);
            let count = next(60);
            let list: Vec<AlertInput> = (0..count).map(|_| random_obs(&mut next, 0, 100)).collect();
            let expected = oracle(&rules, &[area()], &list);
            fired += expected.len();
            assert_eq!(evaluate(&rules, &[area()], &list), expected, "case {case}");
        }
        assert!(fired > 100, "the cases must make alerts fire ({fired})");
    }

    /// What is kept between sweeps, as the store keeps it: the closed alerts in the order they
    /// closed, and the checkpoints.
    #[derive(Default)]
    struct Kept {
        closed: Vec<Alert>,
        checkpoints: Vec<Checkpoint>,
    }

    /// Resumes from the last checkpoint at or before `changed_ms` (from the start if none),
    /// sweeps `list` from there, and keeps the result; returns the alerts and whether it resumed.
    fn sweep_again(
        kept: &mut Kept,
        rules: &[AlertRule],
        list: &[AlertInput],
        changed_ms: i64,
        every: usize,
    ) -> (Vec<Alert>, bool) {
        let resume = kept
            .checkpoints
            .iter()
            .rev()
            .find(|c| c.boundary_ms <= changed_ms)
            .cloned();
        let areas = [area()];
        let (from_ms, mut sweep) = match resume {
            Some(c) => {
                kept.closed.truncate(c.closed_alerts);
                kept.checkpoints.retain(|k| k.boundary_ms <= c.boundary_ms);
                (c.boundary_ms, Sweep::resume(rules, &areas, c))
            }
            None => {
                *kept = Kept::default();
                (i64::MIN, Sweep::new(rules, &areas))
            }
        };
        let mut sorted: Vec<&AlertInput> = list
            .iter()
            .filter(|o| o.observed_at_ms >= from_ms)
            .collect();
        sorted.sort_by_key(|o| (o.observed_at_ms, o.key));
        sweep = sweep.checkpoint_every(every);
        for o in sorted {
            sweep.push(o);
        }
        let outcome = sweep.finish_outcome();
        kept.closed.extend(outcome.closed);
        kept.checkpoints.extend(outcome.checkpoints);
        let mut alerts = kept.closed.clone();
        alerts.extend(outcome.open_at_end);
        sort(&mut alerts);
        (alerts, from_ms != i64::MIN)
    }

    #[test]
    fn resuming_from_a_checkpoint_before_every_change_gives_what_a_full_sweep_gives() {
        let mut next = seeded(0x2545_f491_4f6c_dd1du64);
        let (mut resumed, mut fired) = (0, 0);
        for case in 0..300 {
            let rules = random_rules(&mut next, false);
            let mut list: Vec<AlertInput> =
                (0..80).map(|_| random_obs(&mut next, 0, 200)).collect();
            let every = 1 + next(10) as usize;
            let mut kept = Kept::default();
            let (first, _) = sweep_again(&mut kept, &rules, &list, i64::MIN, every);
            assert_eq!(first, evaluate(&rules, &[area()], &list), "case {case}");
            // Three imports, each touching only times from some hour on: new observations,
            // and held ones revised (moved later, or given another category).
            for round in 0..3 {
                let from_hour = next(200);
                let changed_ms = from_hour as i64 * 3_600_000;
                for _ in 0..1 + next(12) {
                    list.push(random_obs(&mut next, from_hour, 200));
                }
                for o in list.iter_mut().filter(|o| o.observed_at_ms >= changed_ms) {
                    match next(8) {
                        0 => o.category = "small_arms".into(),
                        1 => o.observed_at_ms += next(5) as i64 * 3_600_000,
                        _ => {}
                    }
                }
                let (alerts, did_resume) = sweep_again(&mut kept, &rules, &list, changed_ms, every);
                let expected = evaluate(&rules, &[area()], &list);
                assert_eq!(alerts, expected, "case {case}, round {round}");
                resumed += usize::from(did_resume);
                fired += expected.len();
            }
        }
        assert!(resumed > 500, "most sweeps must resume ({resumed})");
        assert!(fired > 500, "the cases must make alerts fire ({fired})");
    }

    #[test]
    fn fires_at_the_threshold_and_not_just_under() {
        let ten: Vec<_> = (0..10).map(|h| obs(h * 2, "shelling", 48.5)).collect();
        let alerts = evaluate(&[rule(10)], &[area()], &ten);
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].area, "north");
        assert_eq!(alerts[0].records.len(), 10);
        assert!(
            evaluate(&[rule(11)], &[area()], &ten).is_empty(),
            "just under the threshold"
        );
    }

    #[test]
    fn window_category_and_area_are_respected() {
        // Ten within 24 hours, but one is small arms and one is in another area.
        let mut list: Vec<_> = (0..8).map(|h| obs(h, "shelling", 48.5)).collect();
        list.push(obs(9, "small_arms", 48.5));
        list.push(obs(10, "shelling", 10.0));
        assert!(evaluate(&[rule(9)], &[area()], &list).is_empty());
        // Ten shellings, but spread over 30 hours: no 24-hour window holds them all.
        let spread: Vec<_> = (0..10).map(|h| obs(h * 3 + 1, "shelling", 48.5)).collect();
        assert!(evaluate(&[rule(10)], &[area()], &spread).is_empty());
        assert_eq!(evaluate(&[rule(8)], &[area()], &spread).len(), 1);
    }
}
