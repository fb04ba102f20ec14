//! Linking reports of one event: links kept as events, and suggestions of reports that are
//! likely the same event (same kind, close in time, near in space or in the same area).

use truce_sync::profile::Area;
use truce_sync::{Observation, ObservationKey, ObservationRevision};
use uuid::Uuid;

use crate::journal::{now, Journal, JournalError};
use crate::model::{LinkSuggestion, Nearness};

impl Journal {
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
    use crate::coordination::testkit::{areas, rev};
    use std::collections::HashSet;
    use uuid::Uuid;

    fn ids(list: &[LinkSuggestion]) -> Vec<Uuid> {
        list.iter().map(|s| s.revision.observation.id).collect()
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
