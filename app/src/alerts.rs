//! Escalation alerts: the mission profile's threshold rules evaluated over observations, as a
//! pure function ("at least N matching observations in one area within H hours").

use std::collections::BTreeMap;

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
    let mut alerts = Vec::new();
    for rule in rules {
        let mut by_area: BTreeMap<String, Vec<&AlertInput>> = BTreeMap::new();
        for o in observations {
            let kind_ok = rule.kinds.is_empty() || rule.kinds.contains(&o.kind);
            let category_ok = rule.categories.is_empty() || rule.categories.contains(&o.category);
            if !(kind_ok && category_ok) {
                continue;
            }
            let area = area_of(areas, o.lat, o.lon)
                .map(|a| a.code.clone())
                .unwrap_or_default();
            if rule.area.as_ref().is_some_and(|wanted| wanted != &area) {
                continue;
            }
            by_area.entry(area).or_default().push(o);
        }
        let window_ms = i64::from(rule.window_hours) * 3_600_000;
        let threshold = usize::try_from(rule.threshold).unwrap_or(usize::MAX).max(1);
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
                if end + 1 - start >= threshold {
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
    alerts.sort_by(|a, b| b.level.cmp(&a.level).then(b.to_ms.cmp(&a.to_ms)));
    alerts
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
