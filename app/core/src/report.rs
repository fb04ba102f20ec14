//! The coordinator's periodic report: counts by area, kind, category, party and method against
//! the previous period, a chart of daily counts; rendered as text, JSON or self-contained HTML.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;
use truce_sync::profile::Area;

use crate::model::QueueRow;
use truce_sync::profile::area_of;

/// How many days the daily chart covers.
pub const CHART_DAYS: i64 = 30;

pub use crate::period::utc_day_bound_ms;

/// One line of a breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Count {
    /// The value counted (area label, kind code, ...).
    pub key: String,
    /// Observations in the period.
    pub current: u64,
    /// Observations in the previous period of the same length.
    pub previous: u64,
}

/// Counts along one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Breakdown {
    /// `area`, `kind`, `category`, `party` or `method`.
    pub dimension: String,
    /// Lines, most frequent first.
    pub counts: Vec<Count>,
}

/// The report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Start of the period (inclusive).
    pub from: DateTime<Utc>,
    /// End of the period (exclusive).
    pub to: DateTime<Utc>,
    /// Observations in the period.
    pub total: u64,
    /// Observations in the previous period.
    pub previous_total: u64,
    /// Counts by area, kind, category, party (initiator) and method.
    pub breakdowns: Vec<Breakdown>,
    /// Observations per UTC day for the chart, oldest first, ending with the period's last day.
    pub daily: Vec<(NaiveDate, u64)>,
}

const DIMENSIONS: [&str; 5] = ["area", "kind", "category", "party", "method"];

fn key_of(row: &QueueRow, dimension: &str, areas: &[Area]) -> String {
    let o = &row.revision.observation;
    match dimension {
        "area" => area_of(areas, o.lat, o.lon, o.place.as_deref())
            .map_or_else(|| "(no area)".to_owned(), |a| a.label.clone()),
        "kind" => o.kind.clone(),
        "category" => o.category.clone(),
        "party" => o.initiator.clone().unwrap_or_else(|| "unknown".into()),
        _ => o.method.code().to_owned(),
    }
}

/// Builds the report for `[from, to)` from every observation since the chart's first day
/// (which covers the previous period too when it is shorter than the chart).
pub fn build(rows: &[QueueRow], from: DateTime<Utc>, to: DateTime<Utc>, areas: &[Area]) -> Report {
    let length = to - from;
    let previous_from = from - length;
    let mut tallies: BTreeMap<(&str, String), (u64, u64)> = BTreeMap::new();
    let (mut total, mut previous_total) = (0, 0);
    let last_day = (to - Duration::milliseconds(1)).date_naive();
    let first_day = last_day - Duration::days(CHART_DAYS - 1);
    let mut daily: BTreeMap<NaiveDate, u64> = (0..CHART_DAYS)
        .map(|i| (first_day + Duration::days(i), 0))
        .collect();
    for row in rows {
        let at = row.revision.observation.observed_at.with_timezone(&Utc);
        if let Some(n) = daily.get_mut(&at.date_naive()) {
            *n += 1;
        }
        let slot = if at >= from && at < to {
            total += 1;
            0
        } else if at >= previous_from && at < from {
            previous_total += 1;
            1
        } else {
            continue;
        };
        for dimension in DIMENSIONS {
            let entry = tallies
                .entry((dimension, key_of(row, dimension, areas)))
                .or_default();
            if slot == 0 {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
    }
    let breakdowns = DIMENSIONS
        .iter()
        .map(|dimension| {
            let mut counts: Vec<Count> = tallies
                .iter()
                .filter(|((d, _), _)| d == dimension)
                .map(|((_, key), (current, previous))| Count {
                    key: key.clone(),
                    current: *current,
                    previous: *previous,
                })
                .collect();
            counts.sort_by(|a, b| b.current.cmp(&a.current).then(a.key.cmp(&b.key)));
            Breakdown {
                dimension: (*dimension).to_owned(),
                counts,
            }
        })
        .collect();
    Report {
        from,
        to,
        total,
        previous_total,
        breakdowns,
        daily: daily.into_iter().collect(),
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
        "Report {} to {} (UTC)\nObservations: {} (previous period {}, {})\n",
        r.from.format("%Y-%m-%d %H:%M"),
        r.to.format("%Y-%m-%d %H:%M"),
        r.total,
        r.previous_total,
        change(r.total, r.previous_total)
    );
    for b in &r.breakdowns {
        out.push_str(&format!("\nBy {}:\n", b.dimension));
        for c in &b.counts {
            out.push_str(&format!(
                "  {:<28} {:>6}  (previous {:>5}, {})\n",
                c.key,
                c.current,
                c.previous,
                change(c.current, c.previous)
            ));
        }
    }
    out.push_str(&format!("\nDaily counts, last {CHART_DAYS} days:\n"));
    let max = r.daily.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1);
    for (day, n) in &r.daily {
        let bar = "#".repeat(usize::try_from(n * 40 / max).unwrap_or(40));
        out.push_str(&format!("  {day} {n:>5} {bar}\n"));
    }
    out
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The report as one self-contained HTML page (inline CSS and SVG chart, no network).
pub fn to_html(r: &Report, mission: &str) -> String {
    let max = r.daily.iter().map(|(_, n)| *n).max().unwrap_or(0).max(1) as f64;
    let (w, h, pad) = (900.0, 220.0, 30.0);
    let bar_w = (w - 2.0 * pad) / r.daily.len().max(1) as f64;
    let mut svg = format!(
        r##"<svg role="img" aria-label="Daily observations, last {CHART_DAYS} days" viewBox="0 0 {w} {h}" width="100%"><line x1="{pad}" y1="{y}" x2="{x2}" y2="{y}" stroke="#555"/>"##,
        y = h - pad,
        x2 = w - pad
    );
    for (i, (day, n)) in r.daily.iter().enumerate() {
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
            "<h2>By {}</h2><table><thead><tr><th>{}</th><th>Period</th><th>Previous</th><th>Change</th></tr></thead><tbody>",
            escape(&b.dimension),
            escape(&b.dimension)
        ));
        for c in &b.counts {
            tables.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&c.key),
                c.current,
                c.previous,
                change(c.current, c.previous)
            ));
        }
        tables.push_str("</tbody></table>");
    }
    format!(
        r#"<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font:16px/1.4 system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#111}}
table{{border-collapse:collapse;margin:.5em 0 1.5em}}td,th{{border:1px solid #bbb;padding:.3em .7em;text-align:right}}
td:first-child,th:first-child{{text-align:left}}h1{{font-size:1.5em}}h2{{font-size:1.15em;margin-top:1.5em}}</style></head>
<body><h1>{title}</h1><p>{from} to {to} (UTC). <strong>{total}</strong> observations; previous period {prev} ({change}).</p>
<h2>Daily observations, last {CHART_DAYS} days</h2>{svg}{tables}</body></html>
"#,
        title = escape(&format!("{mission}: daily report")),
        from = r.from.format("%Y-%m-%d %H:%M"),
        to = r.to.format("%Y-%m-%d %H:%M"),
        total = r.total,
        prev = r.previous_total,
        change = change(r.total, r.previous_total),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_bound_is_its_utc_midnight_and_the_end_bound_the_next_one() {
        let day = NaiveDate::from_ymd_opt(2026, 11, 24).expect("date");
        let start = utc_day_bound_ms(day, false);
        let end = utc_day_bound_ms(day, true);
        assert_eq!(
            DateTime::from_timestamp_millis(start).map(|t| t.to_rfc3339()),
            Some("2026-11-24T00:00:00+00:00".to_owned())
        );
        assert_eq!(end - start, 24 * 3600 * 1000);
    }
}
