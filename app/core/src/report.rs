//! The coordinator's periodic report, as ceasefire missions count: events (reports linked as one
//! event count once), the explosions, bursts and shots they counted ("at least" when estimated),
//! killed and injured, per area, kind, category, party and method, against the previous
//! period; the alerts active in it, and a chart of daily events. Rendered as text, JSON or
//! self-contained HTML.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use truce_sync::profile::{area_of, Area};
use truce_sync::taxonomy::Code;
use truce_sync::verification::VerificationStatus;
use truce_sync::ObservationKey;

use crate::alerts::Alert;
use crate::model::QueueRow;
use crate::period::{day_before, MissionZone};

/// How many days the daily chart covers.
pub const CHART_DAYS: i64 = 30;

/// What an event adds up to: the largest count and casualty figures among its reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tally {
    /// Events.
    pub events: u64,
    /// Explosions, bursts and shots counted (`event_count`), summed over the events.
    pub counted: u64,
    /// Some of `counted` are estimates: read it as "at least".
    pub counted_approx: bool,
    /// Killed.
    pub killed: u64,
    /// Injured.
    pub injured: u64,
}

impl Tally {
    fn add(&mut self, event: &Event) {
        self.events += 1;
        self.counted += u64::from(event.counted);
        self.counted_approx |= event.counted_approx;
        self.killed += u64::from(event.killed);
        self.injured += u64::from(event.injured);
    }
}

/// One line of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The value counted: an area, kind, category or party code, or a method. `""` for an area
    /// outside every area and for a party not recorded.
    pub key: String,
    /// What a reader sees: the profile's label, "(no area)", "Not recorded", "Unknown".
    pub label: String,
    /// Events in the period.
    pub current: u64,
    /// Events in the previous period of the same length.
    pub previous: u64,
    /// The period's events added up.
    pub tally: Tally,
}

/// Counts along one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breakdown {
    /// `area`, `kind`, `category`, `party` (the initiator) or `method`.
    pub dimension: String,
    /// Lines, most events first.
    pub counts: Vec<Count>,
}

/// Events on one day of the mission's time zone, for the chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// The day.
    pub day: NaiveDate,
    /// Events on it.
    pub count: u64,
}

/// What the period is, for the title.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    /// 24 hours.
    Day,
    /// 7 days.
    Week,
    /// Any other length.
    Custom,
}

impl PeriodKind {
    /// A day or a week of the mission's calendar: from the same local time one or seven days
    /// before (23 or 25 hours across a change of clock).
    fn of(from: DateTime<Utc>, to: DateTime<Utc>, zone: MissionZone) -> PeriodKind {
        let days_back = |n: usize| (0..n).fold(to, |t, _| day_before(t, zone));
        if days_back(1) == from {
            PeriodKind::Day
        } else if days_back(7) == from {
            PeriodKind::Week
        } else {
            PeriodKind::Custom
        }
    }

    /// Where the previous period of the same kind starts, when this one starts at `from` and
    /// is `length` long.
    fn previous_from(
        self,
        from: DateTime<Utc>,
        length: Duration,
        zone: MissionZone,
    ) -> DateTime<Utc> {
        let days_back = |n: usize| (0..n).fold(from, |t, _| day_before(t, zone));
        match self {
            PeriodKind::Day => days_back(1),
            PeriodKind::Week => days_back(7),
            PeriodKind::Custom => from - length,
        }
    }

    /// "daily report", "weekly report", "report".
    pub fn title(self) -> &'static str {
        match self {
            PeriodKind::Day => "daily report",
            PeriodKind::Week => "weekly report",
            PeriodKind::Custom => "report",
        }
    }
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Start of the period (inclusive).
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub to: DateTime<Utc>,
    /// Day, week or custom.
    pub period: PeriodKind,
    /// The time zone of the period's days and of the times the renderings print: the
    /// mission's, UTC when its profile names none.
    pub zone: MissionZone,
    /// Events in the period.
    pub total: u64,
    /// Events in the previous period.
    pub previous_total: u64,
    /// The period's events added up.
    pub tally: Tally,
    /// The previous period's.
    pub previous_tally: Tally,
    /// Reports counted in the period (each event is one or more).
    pub reports: u64,
    /// Reports merged into another report's event (`reports - total`).
    pub merged_reports: u64,
    /// Reports in the period marked unfounded, which count nowhere.
    pub unfounded_reports: u64,
    /// Reports in the period that a revoked device sent past its cut-off: counted, and
    /// flagged, since whoever held the device's key may have written them.
    pub after_revocation_reports: u64,
    /// Breakdowns by area, kind, category, party (initiator) and method.
    pub breakdowns: Vec<Breakdown>,
    /// Events per day (in `zone`) for the chart, oldest first, ending with the period's last day.
    pub daily: Vec<DayCount>,
    /// The escalation alerts whose window overlaps the period.
    pub alerts: Vec<Alert>,
}

/// What the report knows of the mission: its areas and parties (for labels), and which
/// reports are linked as one event.
#[derive(Debug, Clone, Copy)]
pub struct ReportContext<'a> {
    /// The mission profile's areas.
    pub areas: &'a [Area],
    /// The mission profile's parties.
    pub parties: &'a [Code],
    /// Linked events: an event id and its reports.
    pub events: &'a [(String, Vec<ObservationKey>)],
    /// Every alert raised; those overlapping the period are listed.
    pub alerts: &'a [Alert],
    /// The mission's time zone: days and the period's kind follow it.
    pub zone: MissionZone,
}

const DIMENSIONS: [&str; 5] = ["area", "kind", "category", "party", "method"];

/// One event: its earliest report decides where and what it was; counts are the largest any
/// of its reports gives.
struct Event {
    at: DateTime<Utc>,
    keys: [(String, String); 5],
    reports: u64,
    counted: u32,
    counted_approx: bool,
    killed: u32,
    injured: u32,
}

fn keys_of(row: &QueueRow, ctx: &ReportContext<'_>) -> [(String, String); 5] {
    let o = &row.revision.observation;
    let area = area_of(ctx.areas, o.lat, o.lon, o.place.as_deref());
    let party = match o.initiator.as_deref() {
        None => (String::new(), "Not recorded".to_owned()),
        Some("unknown") => ("unknown".to_owned(), "Unknown".to_owned()),
        Some(code) => (
            code.to_owned(),
            ctx.parties
                .iter()
                .find(|p| p.code == code)
                .map_or_else(|| code.to_owned(), |p| p.label.clone()),
        ),
    };
    [
        area.map_or_else(
            || (String::new(), "(no area)".to_owned()),
            |a| (a.code.clone(), a.label.clone()),
        ),
        (o.kind.clone(), o.kind.clone()),
        (o.category.clone(), o.category.clone()),
        party,
        (o.method.code().to_owned(), o.method.code().to_owned()),
    ]
}

/// The events the rows make: linked reports become one, unfounded reports none.
fn events_of(rows: &[&QueueRow], ctx: &ReportContext<'_>) -> Vec<Event> {
    let linked: HashMap<ObservationKey, &str> = ctx
        .events
        .iter()
        .flat_map(|(event, keys)| keys.iter().map(move |k| (*k, event.as_str())))
        .collect();
    let mut groups: BTreeMap<String, Vec<&QueueRow>> = BTreeMap::new();
    for row in rows {
        let o = &row.revision.observation;
        let key = ObservationKey {
            id: o.id,
            device_id: row.revision.device_id,
        };
        let group = linked
            .get(&key)
            .map_or_else(|| format!("report {key}"), |e| format!("event {e}"));
        groups.entry(group).or_default().push(row);
    }
    groups
        .into_values()
        .filter_map(|mut reports| {
            reports.sort_by_key(|r| r.revision.observation.observed_at);
            let first = reports.first()?;
            let largest = reports
                .iter()
                .max_by_key(|r| r.revision.observation.event_count.unwrap_or(0))?;
            Some(Event {
                at: first.revision.observation.observed_at.with_timezone(&Utc),
                keys: keys_of(first, ctx),
                reports: reports.len() as u64,
                counted: largest.revision.observation.event_count.unwrap_or(0),
                counted_approx: largest.revision.observation.count_approx
                    && largest.revision.observation.event_count.is_some(),
                killed: reports
                    .iter()
                    .filter_map(|r| r.revision.observation.killed)
                    .max()
                    .unwrap_or(0),
                injured: reports
                    .iter()
                    .filter_map(|r| r.revision.observation.injured)
                    .max()
                    .unwrap_or(0),
            })
        })
        .collect()
}

/// Builds the report for `[from, to)` from every counted observation since the chart's first
/// day (which covers the previous period too when it is shorter than the chart).
pub fn build(
    rows: &[QueueRow],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    ctx: &ReportContext<'_>,
) -> Report {
    let length = to - from;
    let zone = ctx.zone;
    let period = PeriodKind::of(from, to, zone);
    let previous_from = period.previous_from(from, length, zone);
    let in_period = |row: &&QueueRow| {
        let at = row.revision.observation.observed_at.with_timezone(&Utc);
        at >= from && at < to
    };
    let unfounded_reports = rows
        .iter()
        .filter(|r| r.status == VerificationStatus::Unfounded)
        .filter(in_period)
        .count() as u64;
    let after_revocation_reports = rows
        .iter()
        .filter(|r| r.after_revocation)
        .filter(in_period)
        .count() as u64;
    let founded: Vec<&QueueRow> = rows
        .iter()
        .filter(|r| r.status != VerificationStatus::Unfounded)
        .collect();
    let events = events_of(&founded, ctx);

    let last_day = zone.day_of(to - Duration::milliseconds(1));
    let first_day = last_day - Duration::days(CHART_DAYS - 1);
    let mut daily: BTreeMap<NaiveDate, u64> = (0..CHART_DAYS)
        .map(|i| (first_day + Duration::days(i), 0))
        .collect();
    let mut tallies: BTreeMap<(&str, String), (String, u64, u64, Tally)> = BTreeMap::new();
    let (mut tally, mut previous_tally, mut reports) = (Tally::default(), Tally::default(), 0);
    for event in &events {
        if let Some(n) = daily.get_mut(&zone.day_of(event.at)) {
            *n += 1;
        }
        let current = if event.at >= from && event.at < to {
            tally.add(event);
            reports += event.reports;
            true
        } else if event.at >= previous_from && event.at < from {
            previous_tally.add(event);
            false
        } else {
            continue;
        };
        for (dimension, (key, label)) in DIMENSIONS.iter().zip(&event.keys) {
            let entry = tallies
                .entry((dimension, key.clone()))
                .or_insert_with(|| (label.clone(), 0, 0, Tally::default()));
            if current {
                entry.1 += 1;
                entry.3.add(event);
            } else {
                entry.2 += 1;
            }
        }
    }
    let breakdowns = DIMENSIONS
        .iter()
        .map(|dimension| {
            let mut counts: Vec<Count> = tallies
                .iter()
                .filter(|((d, _), _)| d == dimension)
                .map(|((_, key), (label, current, previous, tally))| Count {
                    key: key.clone(),
                    label: label.clone(),
                    current: *current,
                    previous: *previous,
                    tally: *tally,
                })
                .collect();
            counts.sort_by(|a, b| b.current.cmp(&a.current).then(a.label.cmp(&b.label)));
            Breakdown {
                dimension: (*dimension).to_owned(),
                counts,
            }
        })
        .collect();
    let (from_ms, to_ms) = (from.timestamp_millis(), to.timestamp_millis());
    Report {
        from,
        to,
        period,
        zone,
        total: tally.events,
        previous_total: previous_tally.events,
        tally,
        previous_tally,
        reports,
        merged_reports: reports - tally.events,
        unfounded_reports,
        after_revocation_reports,
        breakdowns,
        daily: daily
            .into_iter()
            .map(|(day, count)| DayCount { day, count })
            .collect(),
        alerts: ctx
            .alerts
            .iter()
            .filter(|a| a.from_ms < to_ms && a.to_ms >= from_ms)
            .cloned()
            .collect(),
    }
}

/// "12", or "at least 12" when some counts are estimates.
fn counted_text(t: &Tally) -> String {
    if t.counted_approx {
        format!("at least {}", t.counted)
    } else {
        t.counted.to_string()
    }
}

fn change(current: u64, previous: u64) -> String {
    let diff = current as i64 - previous as i64;
    match diff {
        0 => "±0".to_owned(),
        d if d > 0 => format!("+{d}"),
        d => d.to_string(),
    }
}

/// The report as plain text.
pub fn to_text(r: &Report) -> String {
    let mut out = format!(
        "{} {} to {} ({})\nEvents: {} (previous period {}, {}), from {} reports ({} merged into another's event{})\n",
        capitalised(r.period.title()),
        r.zone.format(r.from),
        r.zone.format(r.to),
        r.zone.name(),
        r.total,
        r.previous_total,
        change(r.total, r.previous_total),
        r.reports,
        r.merged_reports,
        if r.unfounded_reports > 0 {
            format!("; {} unfounded left out", r.unfounded_reports)
        } else {
            String::new()
        }
    );
    if r.after_revocation_reports > 0 {
        out.push_str(&format!(
            "Flagged: {} report(s) from revoked devices, sent after their cut-off\n",
            r.after_revocation_reports
        ));
    }
    out.push_str(&format!(
        "Explosions, bursts and shots: {} (previous period {})\nKilled: {}  Injured: {}\n",
        counted_text(&r.tally),
        counted_text(&r.previous_tally),
        r.tally.killed,
        r.tally.injured
    ));
    for b in &r.breakdowns {
        out.push_str(&format!("\nBy {}:\n", b.dimension));
        for c in &b.counts {
            out.push_str(&format!(
                "  {:<28} {:>6} events  (previous {:>5}, {})  counted {:>6}  killed {}  injured {}\n",
                c.label,
                c.current,
                c.previous,
                change(c.current, c.previous),
                counted_text(&c.tally),
                c.tally.killed,
                c.tally.injured
            ));
        }
    }
    if !r.alerts.is_empty() {
        out.push_str("\nEscalation alerts in the period:\n");
        for a in &r.alerts {
            out.push_str(&format!(
                "  level {} {} ({}): {} records, {} to {}\n",
                a.level,
                a.rule,
                if a.area.is_empty() {
                    "any area"
                } else {
                    &a.area
                },
                a.records.len(),
                millis_text(a.from_ms, r.zone),
                millis_text(a.to_ms, r.zone)
            ));
        }
    }
    out.push_str(&format!("\nDaily events, last {CHART_DAYS} days:\n"));
    let max = r.daily.iter().map(|d| d.count).max().unwrap_or(0).max(1);
    for d in &r.daily {
        let bar = "#".repeat(usize::try_from(d.count * 40 / max).unwrap_or(40));
        out.push_str(&format!("  {} {:>5} {bar}\n", d.day, d.count));
    }
    out
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().collect::<String>() + chars.as_str()
    })
}

/// `2026-11-24 05:30` in `zone` for Unix milliseconds.
fn millis_text(ms: i64, zone: MissionZone) -> String {
    DateTime::from_timestamp_millis(ms).map_or_else(String::new, |t| zone.format(t))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as one self-contained HTML page (inline CSS and SVG chart, no network).
pub fn to_html(r: &Report, mission: &str) -> String {
    let max = r.daily.iter().map(|d| d.count).max().unwrap_or(0).max(1) as f64;
    let (w, h, pad) = (900.0, 220.0, 30.0);
    let bar_w = (w - 2.0 * pad) / r.daily.len().max(1) as f64;
    let mut svg = format!(
        r##"<svg role="img" aria-label="Daily events, last {CHART_DAYS} days" viewBox="0 0 {w} {h}" width="100%"><line x1="{pad}" y1="{y}" x2="{x2}" y2="{y}" stroke="#555"/>"##,
        y = h - pad,
        x2 = w - pad
    );
    for (i, DayCount { day, count: n }) in r.daily.iter().enumerate() {
        let bh = (*n as f64 / max) * (h - 2.0 * pad);
        let x = pad + i as f64 * bar_w;
        svg.push_str(&format!(
            r##"<rect x="{x:.1}" y="{y:.1}" width="{bw:.1}" height="{bh:.1}" fill="#1f5fa8"><title>{day}: {n}</title></rect>"##,
            y = h - pad - bh,
            bw = (bar_w - 2.0).max(1.0)
        ));
        if i % 5 == 0 {
            svg.push_str(&format!(
                r##"<text x="{x:.1}" y="{ty}" font-size="11" fill="#333">{}</text>"##,
                day.format("%d %b"),
                ty = h - 10.0
            ));
        }
    }
    svg.push_str("</svg>");
    let mut tables = String::new();
    for b in &r.breakdowns {
        tables.push_str(&format!(
            "<h2>By {}</h2><table><thead><tr><th>{}</th><th>Events</th><th>Previous</th><th>Change</th><th>Counted</th><th>Killed</th><th>Injured</th></tr></thead><tbody>",
            escape(&b.dimension),
            escape(&capitalised(&b.dimension))
        ));
        for c in &b.counts {
            tables.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&c.label),
                c.current,
                c.previous,
                change(c.current, c.previous),
                escape(&counted_text(&c.tally)),
                c.tally.killed,
                c.tally.injured
            ));
        }
        tables.push_str("</tbody></table>");
    }
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px/1.4 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#111}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border:1px solid #bbb;padding:.3em .7em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}h1{{font-size:1.5em}}h2{{font-size:1.15em;margin-top:1.5em}}</style></head>
<body><h1>{title}</h1><p>{from} to {to} ({zone}). <strong>{total}</strong> events; previous period {prev} ({change}).
From {reports} reports, {merged} of them merged into another report's event.</p>{flagged}
<p>Explosions, bursts and shots: <strong>{counted}</strong>. Killed: <strong>{killed}</strong>. Injured: <strong>{injured}</strong>.</p>
{alerts}<h2>Daily events, last {CHART_DAYS} days</h2>{svg}{tables}</body></html>
"#,
        title = escape(&format!("{mission}: {}", r.period.title())),
        reports = r.reports,
        merged = r.merged_reports,
        flagged = if r.after_revocation_reports > 0 {
            format!(
                "<p><strong>Flagged:</strong> {} report(s) from revoked devices, sent after their cut-off.</p>",
                r.after_revocation_reports
            )
        } else {
            String::new()
        },
        counted = escape(&counted_text(&r.tally)),
        killed = r.tally.killed,
        injured = r.tally.injured,
        alerts = alerts_html(&r.alerts, r.zone),
        from = r.zone.format(r.from),
        to = r.zone.format(r.to),
        zone = r.zone.name(),
        total = r.total,
        prev = r.previous_total,
        change = change(r.total, r.previous_total),
    )
}

fn alerts_html(alerts: &[Alert], zone: MissionZone) -> String {
    if alerts.is_empty() {
        return String::new();
    }
    let mut out = String::from("<h2>Escalation alerts in the period</h2><ul>");
    for a in alerts {
        out.push_str(&format!(
            "<li>Level {} <strong>{}</strong> ({}): {} records, {} to {}</li>",
            a.level,
            escape(&a.rule),
            escape(if a.area.is_empty() {
                "any area"
            } else {
                &a.area
            }),
            a.records.len(),
            millis_text(a.from_ms, zone),
            millis_text(a.to_ms, zone)
        ));
    }
    out.push_str("</ul>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::coordination::testkit::{areas, rev};
    use serde_json::json;

    /// A report row: `extra` fields merged into a violation observed at `at`.
    fn row(at: &str, extra: serde_json::Value, status: VerificationStatus) -> QueueRow {
        let mut revision = rev("violation", at, Some((48.5, 37.5)), None);
        let mut value = serde_json::to_value(&revision.observation).expect("value");
        if let (Some(o), Some(e)) = (value.as_object_mut(), extra.as_object()) {
            o.extend(e.clone());
        }
        revision.observation = serde_json::from_value(value).expect("observation");
        QueueRow {
            revision,
            status,
            device_pending: false,
            id_also_used_by: Vec::new(),
            after_revocation: false,
        }
    }

    fn key(row: &QueueRow) -> ObservationKey {
        ObservationKey {
            id: row.revision.observation.id,
            device_id: row.revision.device_id,
        }
    }

    #[test]
    fn the_report_counts_events_and_what_they_counted() {
        use VerificationStatus::{Corroborated, Unfounded, Unverified};
        let parties = vec![Code {
            code: "party_a".into(),
            label: "Party A".into(),
        }];
        let day = "2026-11-24T";
        let rows = vec![
            // Two reports of one event: it counts once, with the larger figures.
            row(
                &format!("{day}05:00:00Z"),
                json!({"event_count": 12, "initiator": "party_a", "killed": 1}),
                Corroborated,
            ),
            row(
                &format!("{day}05:20:00Z"),
                json!({"event_count": 20, "count_approx": true, "injured": 3, "initiator": "unknown"}),
                Unverified,
            ),
            // One report alone, no party recorded.
            row(
                &format!("{day}09:00:00Z"),
                json!({"event_count": 5}),
                Unverified,
            ),
            // Unfounded: counts nowhere.
            row(
                &format!("{day}10:00:00Z"),
                json!({"event_count": 100, "killed": 9}),
                Unfounded,
            ),
            // The previous period.
            row(
                "2026-11-23T12:00:00Z",
                json!({"event_count": 7}),
                Unverified,
            ),
        ];
        let events = vec![("ev1".to_owned(), vec![key(&rows[0]), key(&rows[1])])];
        let alert = Alert {
            rule: "shelling".into(),
            level: 3,
            area: "north".into(),
            from_ms: DateTime::parse_from_rfc3339("2026-11-24T04:00:00Z")
                .expect("t")
                .timestamp_millis(),
            to_ms: DateTime::parse_from_rfc3339("2026-11-24T09:00:00Z")
                .expect("t")
                .timestamp_millis(),
            records: vec![key(&rows[0])],
        };
        let old_alert = Alert {
            from_ms: 0,
            to_ms: 1,
            ..alert.clone()
        };
        let from = DateTime::parse_from_rfc3339("2026-11-24T00:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        let to = from + Duration::hours(24);
        let areas = areas();
        let ctx = ReportContext {
            areas: &areas,
            parties: &parties,
            events: &events,
            alerts: &[alert.clone(), old_alert],
            zone: MissionZone::Utc,
        };
        let r = build(&rows, from, to, &ctx);
        assert_eq!(r.period, PeriodKind::Day);
        assert_eq!(
            (r.total, r.reports, r.merged_reports, r.unfounded_reports),
            (2, 3, 1, 1)
        );
        assert_eq!(
            r.tally,
            Tally {
                events: 2,
                counted: 25,
                counted_approx: true,
                killed: 1,
                injured: 3
            },
            "the event takes its largest count (an estimate) and casualty figures"
        );
        assert_eq!(r.previous_total, 1);
        assert_eq!(r.previous_tally.counted, 7);
        let party = &r
            .breakdowns
            .iter()
            .find(|b| b.dimension == "party")
            .expect("party")
            .counts;
        let labels: Vec<(&str, &str, u64)> = party
            .iter()
            .map(|c| (c.key.as_str(), c.label.as_str(), c.current))
            .collect();
        assert!(
            labels.contains(&("party_a", "Party A", 1)),
            "the earliest report's party, by label: {labels:?}"
        );
        assert!(labels.contains(&("", "Not recorded", 1)), "{labels:?}");
        assert!(
            !labels.iter().any(|(k, _, n)| *k == "unknown" && *n > 0),
            "a later report's party does not count: {labels:?}"
        );
        let area = &r.breakdowns[0].counts;
        assert_eq!((area[0].label.as_str(), area[0].current), ("North", 2));
        assert_eq!(r.alerts, vec![alert], "only the alert active in the period");
        assert_eq!(r.daily.last().map(|d| d.count), Some(2));
        let text = to_text(&r);
        assert!(text.starts_with("Daily report 2026-11-24 00:00"), "{text}");
        assert!(text.contains("Events: 2 (previous period 1, +1), from 3 reports (1 merged into another's event; 1 unfounded left out)"), "{text}");
        assert!(
            text.contains("Explosions, bursts and shots: at least 25"),
            "{text}"
        );
        let html = to_html(&r, "East");
        assert!(html.contains("<title>East: daily report</title>") && html.contains("at least 25"));
        let week = build(&rows, to - Duration::days(7), to, &ctx);
        assert_eq!(week.period, PeriodKind::Week);
        let json = serde_json::to_value(&r).expect("JSON");
        assert_eq!(json["daily"][0]["count"], 0, "daily counts are objects");
    }

    /// In Kyiv the day of 2026-10-25 has 25 hours: the daily report up to 19:30 that day
    /// starts at 19:30 the day before, local time, and its days are local days.
    #[test]
    fn a_daily_report_follows_the_mission_zone_across_a_change_of_clock() {
        let zone = MissionZone::Named(chrono_tz::Europe::Kyiv);
        let rows = vec![
            // 19:00 local on the 24th (summer time): the day before.
            row(
                "2026-10-24T16:00:00Z",
                json!({}),
                VerificationStatus::Unverified,
            ),
            // 20:00 local on the 24th: in the period.
            row(
                "2026-10-24T17:00:00Z",
                json!({}),
                VerificationStatus::Unverified,
            ),
            // 01:30 local on the 25th, still summer time: in it.
            row(
                "2026-10-24T22:30:00Z",
                json!({}),
                VerificationStatus::Unverified,
            ),
            // 19:00 local on the 25th (winter time): in it.
            row(
                "2026-10-25T17:00:00Z",
                json!({}),
                VerificationStatus::Unverified,
            ),
        ];
        let areas = areas();
        let ctx = ReportContext {
            areas: &areas,
            parties: &[],
            events: &[],
            alerts: &[],
            zone,
        };
        let at = |s: &str| crate::period::parse_time(s, zone).expect("time");
        let (from, to) = (at("2026-10-24 19:30"), at("2026-10-25 19:30"));
        assert_eq!(to - from, Duration::hours(25));
        let r = build(&rows, from, to, &ctx);
        assert_eq!(
            r.period,
            PeriodKind::Day,
            "a local day, though 25 hours long"
        );
        assert_eq!((r.total, r.previous_total), (3, 1));
        let days: Vec<(String, u64)> = r
            .daily
            .iter()
            .rev()
            .take(2)
            .map(|d| (d.day.to_string(), d.count))
            .collect();
        assert_eq!(
            days,
            vec![("2026-10-25".into(), 2), ("2026-10-24".into(), 2)],
            "events fall on their local days"
        );
        let text = to_text(&r);
        assert!(
            text.starts_with("Daily report 2026-10-24 19:30 to 2026-10-25 19:30 (Europe/Kyiv)"),
            "{text}"
        );
        let utc = ReportContext {
            zone: MissionZone::Utc,
            ..ctx
        };
        assert_eq!(
            build(&rows, from, to, &utc).period,
            PeriodKind::Custom,
            "25 hours are not a UTC day"
        );
    }
}
