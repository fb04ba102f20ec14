//! Escalation alerts: the mission profile's threshold rules evaluated over observations, as a
//! pure function ("at least N matching observations in one area within H hours").

use std::collections::{BTreeMap, VecDeque};

use truce_sync::profile::{AlertRule, Area};
use uuid::Uuid;

use crate::publish::area_of;

/// What an alert rule needs of an observation.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertInput {
    /// The observation.
    pub id: Uuid,
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
}

/// A rule that fired, with the records that made it fire.
#[derive(Debug, Clone, PartialEq)]
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
    pub records: Vec<Uuid>,
}

/// Evaluates every rule. Windows are anchored at each observation and do not overlap within
/// one rule and area: once a window fires, the next starts after it.
pub fn evaluate(rules: &[AlertRule], areas: &[Area], observations: &[AlertInput]) -> Vec<Alert> {
    let mut sorted: Vec<&AlertInput> = observations.iter().collect();
    sorted.sort_by_key(|o| (o.observed_at_ms, o.id));
    let mut sweep = Sweep::new(rules, areas);
    for o in sorted {
        sweep.push(o);
    }
    sweep.finish()
}

/// The rules evaluated over observations fed in time order (then by id), one at a time: the
/// same alerts as [`evaluate`], holding only the observations of one window per rule and area,
/// so a million records stream through in constant memory.
pub struct Sweep<'a> {
    rules: &'a [AlertRule],
    areas: &'a [Area],
    /// Per rule and area: the observations from the window's anchor on, oldest first.
    open: Vec<BTreeMap<String, VecDeque<(i64, Uuid)>>>,
    alerts: Vec<Alert>,
}

impl<'a> Sweep<'a> {
    /// A sweep of `rules`, placing observations in `areas`.
    pub fn new(rules: &'a [AlertRule], areas: &'a [Area]) -> Self {
        Sweep {
            rules,
            areas,
            open: rules.iter().map(|_| BTreeMap::new()).collect(),
            alerts: Vec::new(),
        }
    }

    /// The next observation; none may come before the one fed last.
    pub fn push(&mut self, o: &AlertInput) {
        let mut area: Option<String> = None;
        for (i, rule) in self.rules.iter().enumerate() {
            let kind_ok = rule.kinds.is_empty() || rule.kinds.contains(&o.kind);
            let category_ok = rule.categories.is_empty() || rule.categories.contains(&o.category);
            if !(kind_ok && category_ok) {
                continue;
            }
            let area = area.get_or_insert_with(|| {
                area_of(self.areas, o.lat, o.lon)
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
            window.push_back((o.observed_at_ms, o.id));
        }
    }

    /// The alerts, highest level first, then the most recent.
    pub fn finish(mut self) -> Vec<Alert> {
        for (rule, open) in self.rules.iter().zip(std::mem::take(&mut self.open)) {
            for (area, mut window) in open {
                // Everything left lies within the window of its oldest observation.
                if window.len() >= threshold(rule) {
                    self.alerts.push(fire(rule, &area, &mut window));
                }
            }
        }
        self.alerts.sort_by(|a, b| {
            (b.level, b.to_ms, &a.rule, &a.area).cmp(&(a.level, a.to_ms, &b.rule, &b.area))
        });
        self.alerts
    }
}

fn threshold(rule: &AlertRule) -> usize {
    usize::try_from(rule.threshold).unwrap_or(usize::MAX).max(1)
}

fn fire(rule: &AlertRule, area: &str, window: &mut VecDeque<(i64, Uuid)>) -> Alert {
    Alert {
        rule: rule.name.clone(),
        level: rule.level,
        area: area.to_owned(),
        from_ms: window.front().map_or(0, |w| w.0),
        to_ms: window.back().map_or(0, |w| w.0),
        records: window.drain(..).map(|(_, id)| id).collect(),
    }
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
            id: Uuid::now_v7(),
            observed_at_ms: hour * 3_600_000,
            kind: "violation".into(),
            category: category.into(),
            lat: Some(lat),
            lon: Some(37.5),
        }
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
                let area = area_of(areas, o.lat, o.lon)
                    .map(|a| a.code.clone())
                    .unwrap_or_default();
                if kind_ok && category_ok && rule.area.as_ref().is_none_or(|w| w == &area) {
                    by_area.entry(area).or_default().push(o);
                }
            }
            let window_ms = i64::from(rule.window_hours) * 3_600_000;
            for (area, mut list) in by_area {
                list.sort_by_key(|o| (o.observed_at_ms, o.id));
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
                            records: list[start..=end].iter().map(|o| o.id).collect(),
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
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut fired = 0;
        for case in 0..300 {
            let mut rules = vec![rule(1 + next(6) as u32)];
            rules[0].window_hours = 1 + next(30) as u32;
            let mut second = rule(1 + next(4) as u32);
            second.name = "anything".into();
            second.categories = Vec::new();
            second.level = 2;
            second.window_hours = 1 + next(12) as u32;
            if case % 2 == 0 {
                second.area = Some("north".into());
            }
            rules.push(second);
            let list: Vec<AlertInput> = (0..next(60))
                .map(|_| {
                    let category = if next(3) == 0 {
                        "small_arms"
                    } else {
                        "shelling"
                    };
                    let lat = if next(4) == 0 { 10.0 } else { 48.5 };
                    obs(next(100) as i64, category, lat)
                })
                .collect();
            let expected = oracle(&rules, &[area()], &list);
            fired += expected.len();
            assert_eq!(evaluate(&rules, &[area()], &list), expected, "case {case}");
        }
        assert!(fired > 100, "the cases must make alerts fire ({fired})");
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
