//! Adapters for the coordinator workspace's screens besides the queue: `ReportAdapter` (the
//! daily report and its HTML file), `AlertsAdapter` (escalation alerts with their records),
//! `ExportsAdapter` (CSV, GeoJSON, HXL, full or public) and `DevicesAdapter`. Each calls the
//! use cases of `truce_core::coordination` on the journal thread. Also the working preferences (the
//! cut-off, the export folder, the queue filters): loaded from the journal after an unlock and
//! saved back to it when they change, never to the plaintext settings file.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use chrono::{DateTime, Utc};
use slint::{ComponentHandle, Model, ModelRc, VecModel};
use truce_sync::verification::VerificationStatus;
use truce_sync::Taxonomy;

use truce_core::coordination::preferences::Preferences;
use truce_core::journal::{Journal, JournalError};
use truce_core::model::ObservationFilter;
use truce_core::period::{self, MissionZone};
use truce_core::publish::{DataFormat, PublicOptions};
use truce_core::report::Report;

use crate::files::default_export_dir;
use crate::format::{self, day_ms};
use crate::rows::{gaps, label, queue_item};
use crate::state::{on_app, on_app_with, App, Change, Event};
use crate::ui::{
    AlertItem, AlertsAdapter, AppWindow, Breakdown, CountRow, DayBar, DeviceItem, DevicesAdapter,
    ExportsAdapter, QueueItem, ReportAdapter, Screen, Toggle,
};

/// The report on screen with its mission's name, kept for "Save HTML report" (cleared on
/// lock).
type Shown = Rc<RefCell<Option<(Report, String)>>>;

fn locked() -> JournalError {
    JournalError::Locked
}

fn count(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let shown: Shown = Rc::default();
    clear(window, &shown);
    let report = window.global::<ReportAdapter>();
    report.set_cutoff("00:00".into());
    let r = shown.clone();
    report.on_last_day(on_app(app, move |app| last_day(app, &r)));
    let r = shown.clone();
    report.on_show(on_app(app, move |app| show_report(app, &r)));
    let r = shown.clone();
    report.on_save_html(on_app(app, move |app| save_html(app, &r)));

    window
        .global::<DevicesAdapter>()
        .on_revoke(on_app(app, revoke_device));
    window
        .global::<DevicesAdapter>()
        .on_read_enrolment(on_app(app, read_enrolment));
    window
        .global::<DevicesAdapter>()
        .on_enrol(on_app(app, enrol_device));
    window.global::<DevicesAdapter>().on_accept(on_app_with(
        app,
        move |app, id: slint::SharedString| {
            accept_device(app, id.to_string());
        },
    ));

    let alerts = window.global::<AlertsAdapter>();
    alerts.on_refresh(on_app(app, open_alerts));
    alerts.on_open(on_app_with(app, move |app, id: slint::SharedString| {
        app.open_observation(id.as_str());
    }));

    let exports = window.global::<ExportsAdapter>();
    exports.set_out_dir("".into());
    exports.on_toggle_status(on_app_with(app, move |app, code: slint::SharedString| {
        if let Some(w) = app.window() {
            toggle_status(&w, code.as_str());
        }
    }));
    exports.on_public_changed(on_app(app, move |app| {
        if let Some(w) = app.window() {
            let public = w.global::<ExportsAdapter>().get_public();
            set_statuses(&w, |s| public && s.is_publishable());
        }
    }));
    exports.on_export(on_app(app, export));

    app.subscribe(move |app, event| match event {
        // A coordinator screen opens: read what it shows.
        Event::Shown { to, .. } => match to {
            Screen::Report => open_report(app, &shown),
            Screen::Alerts => open_alerts(app),
            Screen::Exports => open_exports(app),
            Screen::Devices => open_devices(app),
            _ => {}
        },
        Event::PreferencesLoaded => {
            if let (Some(w), Some(prefs)) = (app.window(), app.preferences()) {
                apply_preferences(&w, &prefs, app.vocabulary().zone);
            }
        }
        Event::ProfileChanged => {
            if let Some(w) = app.window() {
                let report = w.global::<ReportAdapter>();
                report.set_zone(app.vocabulary().zone.name().into());
                // The period on screen was read in the old zone: the next visit starts afresh.
                report.set_from("".into());
                report.set_to("".into());
            }
        }
        Event::Locked => {
            if let Some(w) = app.window() {
                clear(&w, &shown);
            }
        }
        _ => {}
    });
}

/// Prefills an empty folder field like the Sync screen's export folder (on the journal thread:
/// it lists folders).
fn prefill_folder(app: &Rc<App>, set: fn(&AppWindow, &str)) {
    app.submit(Box::new(move |_| {
        let folder = default_export_dir();
        Box::new(move |app: &Rc<App>| {
            if let (Some(w), Some(folder)) = (app.window(), folder) {
                set(&w, &folder.display().to_string());
            }
        })
    }));
}

// ---- Report ----

/// Reads `YYYY-MM-DD HH:MM` or `YYYY-MM-DD` (midnight) in the mission's `zone`, or RFC 3339
/// (the core's one time parser).
pub(crate) fn parse_time(text: &str, zone: MissionZone) -> Result<DateTime<Utc>, String> {
    period::parse_time(text, zone).map_err(|e| e.to_string())
}

/// The latest daily cut-off (HH:MM in `zone`, or with its own zone) at or before `now`.
pub(crate) fn latest_cutoff(
    cutoff: &str,
    zone: MissionZone,
    now: DateTime<Utc>,
) -> Result<DateTime<Utc>, String> {
    let cutoff = period::parse_cutoff(cutoff, zone).map_err(|e| e.to_string())?;
    Ok(period::latest_cutoff(cutoff, now))
}

fn open_report(app: &Rc<App>, shown: &Shown) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<ReportAdapter>();
    adapter.set_saved("".into());
    if adapter.get_out_dir().is_empty() {
        prefill_folder(app, |w, f| {
            w.global::<ReportAdapter>().set_out_dir(f.into())
        });
    }
    if adapter.get_from().is_empty() || adapter.get_to().is_empty() {
        last_day(app, shown);
    } else {
        show_report(app, shown);
    }
}

/// The mission's day up to the latest cut-off (23 or 25 hours when the clock changes).
fn last_day(app: &Rc<App>, shown: &Shown) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<ReportAdapter>();
    let zone = app.vocabulary().zone;
    match latest_cutoff(&adapter.get_cutoff(), zone, Utc::now()) {
        Ok(to) => {
            remember_cutoff(app, &adapter.get_cutoff());
            adapter.set_to(zone.format(to).into());
            adapter.set_from(zone.format(period::day_before(to, zone)).into());
            show_report(app, shown);
        }
        Err(e) => adapter.set_error(e.into()),
    }
}

fn show_report(app: &Rc<App>, shown: &Shown) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<ReportAdapter>();
    adapter.set_saved("".into());
    let zone = app.vocabulary().zone;
    let bounds = parse_time(&adapter.get_from(), zone)
        .and_then(|f| Ok((f, parse_time(&adapter.get_to(), zone)?)));
    let (from, to) = match bounds {
        Ok(b) => b,
        Err(e) => {
            adapter.set_error(e.into());
            return;
        }
    };
    adapter.set_error("".into());
    remember_cutoff(app, &adapter.get_cutoff());
    let shown = shown.clone();
    app.submit_then(
        move |journal| {
            journal.as_ref().ok_or_else(locked).and_then(|j| {
                let report = j.report(from, to)?;
                let mission = j
                    .profile()?
                    .map(|p| p.profile.mission)
                    .unwrap_or_else(|| "Truce".into());
                Ok((report, mission))
            })
        },
        move |app, result| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<ReportAdapter>();
            match result {
                Ok((report, mission)) => {
                    let vocabulary = app.vocabulary();
                    present_report(&w, &report, &vocabulary.taxonomy);
                    *shown.borrow_mut() = Some((report, mission));
                }
                Err(e) => {
                    adapter.set_ready(false);
                    adapter.set_error(e.to_string().into());
                }
            }
        },
    );
}

fn present_report(w: &AppWindow, report: &Report, taxonomy: &Taxonomy) {
    let adapter = w.global::<ReportAdapter>();
    // Kinds and categories in the profile's words; areas and parties as the report names
    // them (the profile's labels, "(no area)", "Not recorded", "Unknown").
    let label_of = |dimension: &str, c: &truce_core::report::Count| -> String {
        match dimension {
            "kind" => label(&taxonomy.kinds, &c.key),
            "category" => label(&taxonomy.categories, &c.key),
            _ => c.label.clone(),
        }
    };
    let breakdowns: Vec<Breakdown> = report
        .breakdowns
        .iter()
        .map(|b| {
            let rows: Vec<CountRow> = b
                .counts
                .iter()
                .map(|c| CountRow {
                    key: c.key.as_str().into(),
                    label: label_of(&b.dimension, c).into(),
                    current: count(c.current),
                    previous: count(c.previous),
                })
                .collect();
            Breakdown {
                dimension: b.dimension.as_str().into(),
                rows: ModelRc::new(VecModel::from(rows)),
            }
        })
        .collect();
    let daily: Vec<DayBar> = report
        .daily
        .iter()
        .map(|d| DayBar {
            day: d.day.format("%m-%d").to_string().into(),
            count: count(d.count),
        })
        .collect();
    let max = report
        .daily
        .iter()
        .map(|d| d.count)
        .max()
        .unwrap_or(0)
        .max(1);
    adapter.set_period(
        format!(
            "{} → {}",
            report.zone.format(report.from),
            report.zone.local(report.to).format("%m-%d %H:%M")
        )
        .into(),
    );
    adapter.set_total(count(report.total));
    adapter.set_previous_total(count(report.previous_total));
    adapter.set_period_kind(
        match report.period {
            truce_core::report::PeriodKind::Day => "day",
            truce_core::report::PeriodKind::Week => "week",
            _ => "custom",
        }
        .into(),
    );
    adapter.set_reports(count(report.reports));
    adapter.set_merged_reports(count(report.merged_reports));
    adapter.set_counted(count(report.tally.counted));
    adapter.set_counted_approx(report.tally.counted_approx);
    adapter.set_killed(count(report.tally.killed));
    adapter.set_injured(count(report.tally.injured));
    adapter.set_breakdowns(ModelRc::new(VecModel::from(breakdowns)));
    adapter.set_daily(ModelRc::new(VecModel::from(daily)));
    adapter.set_daily_max(count(max));
    adapter.set_ready(true);
}

/// The HTML report's file name: the end of its period.
pub(crate) fn report_file_name(report: &Report) -> String {
    format!("truce-report-{}.html", report.to.format("%Y%m%d-%H%M"))
}

fn save_html(app: &Rc<App>, shown: &Shown) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<ReportAdapter>();
    adapter.set_saved("".into());
    adapter.set_error("".into());
    let Some((report, mission)) = shown.borrow().clone() else {
        return;
    };
    let dir = PathBuf::from(adapter.get_out_dir().trim());
    app.submit(Box::new(move |journal| {
        let path = dir.join(report_file_name(&report));
        // Written with its minisign signature beside it (`….html.minisig`).
        let result = match journal.as_ref() {
            None => Err(locked().to_string()),
            Some(_) if !dir.is_dir() => Err(format!("{} is not a folder", dir.display())),
            Some(j) => {
                let html = truce_core::report::to_html(&report, &mission);
                j.write_publication(&path, html.as_bytes())
                    .map(|_| ())
                    .map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
        };
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<ReportAdapter>();
            match result {
                Ok(()) => adapter.set_saved(path.display().to_string().into()),
                Err(e) => adapter.set_error(e.into()),
            }
        })
    }));
}

// ---- Alerts ----

/// An alert with its records as the screen shows them.
struct ShownAlert {
    level: u8,
    rule: String,
    area: String,
    from_ms: i64,
    to_ms: i64,
    records: Vec<(truce_sync::ObservationRevision, VerificationStatus)>,
}

/// The most records listed under one alert.
const ALERT_RECORDS_SHOWN: usize = 100;

fn alerts(journal: &Journal) -> Result<(bool, Vec<ShownAlert>), JournalError> {
    let profile = journal.profile()?.map(|p| p.profile);
    let has_rules = profile.as_ref().is_some_and(|p| !p.alert_rules.is_empty());
    let areas = profile.map(|p| p.areas).unwrap_or_default();
    let mut out = Vec::new();
    for alert in journal.alerts()? {
        let mut records = Vec::new();
        for key in alert.records.iter().take(ALERT_RECORDS_SHOWN) {
            let id = key.to_string();
            if let Some(latest) = journal.show(&id)?.into_iter().last() {
                let status = journal
                    .verification_trail(&id)?
                    .last()
                    .map(|e| e.status)
                    .unwrap_or_default();
                records.push((latest, status));
            }
        }
        let area = areas
            .iter()
            .find(|a| a.code == alert.area)
            .map(|a| a.label.clone())
            .unwrap_or(alert.area);
        out.push(ShownAlert {
            level: alert.level,
            rule: alert.rule,
            area,
            from_ms: alert.from_ms,
            to_ms: alert.to_ms,
            records,
        });
    }
    Ok((has_rules, out))
}

fn open_alerts(app: &Rc<App>) {
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().ok_or_else(locked).and_then(alerts);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<AlertsAdapter>();
            match result {
                Ok((has_rules, list)) => {
                    let vocabulary = app.vocabulary();
                    let taxonomy = &vocabulary.taxonomy;
                    let zone = vocabulary.zone;
                    let when = |ms: i64| {
                        DateTime::from_timestamp_millis(ms)
                            .map(|t| zone.format(t))
                            .unwrap_or_default()
                    };
                    let items: Vec<AlertItem> = list
                        .iter()
                        .map(|a| {
                            let records: Vec<QueueItem> = a
                                .records
                                .iter()
                                .map(|(r, s)| queue_item(r, *s, taxonomy))
                                .collect();
                            AlertItem {
                                level: i32::from(a.level),
                                rule: a.rule.as_str().into(),
                                area: a.area.as_str().into(),
                                window: format!(
                                    "{} → {} {}",
                                    when(a.from_ms),
                                    when(a.to_ms),
                                    zone.name()
                                )
                                .into(),
                                records: ModelRc::new(VecModel::from(records)),
                            }
                        })
                        .collect();
                    app.notify(Event::AlertCount(items.len()));
                    adapter.set_alerts(ModelRc::new(VecModel::from(items)));
                    adapter.set_has_rules(has_rules);
                    adapter.set_error("".into());
                    adapter.set_ready(true);
                }
                Err(e) => adapter.set_error(e.to_string().into()),
            }
        })
    }));
}

// ---- Exports ----

fn set_statuses(w: &AppWindow, selected: impl Fn(VerificationStatus) -> bool) {
    let items: Vec<Toggle> = VerificationStatus::ALL
        .into_iter()
        .map(|s| Toggle {
            code: s.code().into(),
            label: s.code().into(),
            selected: selected(s),
        })
        .collect();
    w.global::<ExportsAdapter>()
        .set_statuses(ModelRc::new(VecModel::from(items)));
}

fn toggle_status(w: &AppWindow, code: &str) {
    let model = w.global::<ExportsAdapter>().get_statuses();
    for i in 0..model.row_count() {
        if let Some(mut t) = model.row_data(i) {
            if t.code == code {
                t.selected = !t.selected;
                model.set_row_data(i, t);
            }
        }
    }
}

fn open_exports(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<ExportsAdapter>();
    adapter.set_written("".into());
    adapter.set_error("".into());
    if adapter.get_statuses().row_count() == 0 {
        let public = adapter.get_public();
        set_statuses(&w, |s| public && s.is_publishable());
    }
    if adapter.get_out_dir().is_empty() {
        prefill_folder(app, |w, f| {
            w.global::<ExportsAdapter>().set_out_dir(f.into())
        });
    }
}

/// The export's file name: the format, public or not, and when.
pub(crate) fn export_file_name(format: DataFormat, public: bool, at: DateTime<Utc>) -> String {
    let extension = match format {
        DataFormat::Csv => "csv",
        DataFormat::GeoJson => "geojson",
        DataFormat::Hxl => "hxl.csv",
    };
    format!(
        "truce-{}{}.{extension}",
        if public { "public-" } else { "" },
        at.format("%Y%m%d-%H%M%S")
    )
}

/// What the export form asks for, or what is wrong with it.
fn export_request(
    w: &AppWindow,
    zone: MissionZone,
) -> Result<
    (
        DataFormat,
        ObservationFilter,
        Option<PublicOptions>,
        PathBuf,
    ),
    String,
> {
    let a = w.global::<ExportsAdapter>();
    let format = match a.get_format().as_str() {
        "geojson" => DataFormat::GeoJson,
        "hxl" => DataFormat::Hxl,
        _ => DataFormat::Csv,
    };
    let public = if a.get_public() {
        let text = a.get_grid();
        let grid: f64 = text.trim().parse().map_err(|_| {
            format!(
                "“{}” is not a grid size: write degrees, e.g. 0.05",
                text.trim()
            )
        })?;
        Some(PublicOptions { grid_deg: grid })
    } else {
        None
    };
    let statuses = a
        .get_statuses()
        .iter()
        .filter(|t| t.selected)
        .filter_map(|t| VerificationStatus::from_code(&t.code))
        .collect();
    let filter = ObservationFilter {
        from_ms: day_ms(&a.get_from_date(), false, zone)?,
        to_ms: day_ms(&a.get_to_date(), true, zone)?,
        statuses,
        ..ObservationFilter::default()
    };
    let dir = a.get_out_dir().trim().to_owned();
    if dir.is_empty() {
        return Err("choose the folder to write to".into());
    }
    Ok((format, filter, public, PathBuf::from(dir)))
}

fn export(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<ExportsAdapter>();
    adapter.set_written("".into());
    adapter.set_error("".into());
    let (format, filter, public, dir) = match export_request(&w, app.vocabulary().zone) {
        Ok(r) => r,
        Err(e) => {
            adapter.set_error(e.into());
            return;
        }
    };
    app.submit(Box::new(move |journal| {
        let path = dir.join(export_file_name(format, public.is_some(), Utc::now()));
        let result = journal.as_ref().ok_or_else(locked).and_then(|j| {
            if !dir.is_dir() {
                return Err(JournalError::Refused(format!(
                    "{} is not a folder",
                    dir.display()
                )));
            }
            j.export_data(format, &filter, public, &path)
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<ExportsAdapter>();
            match result {
                Ok(rows) => {
                    app.remember(move |p| p.export_dir = Some(dir));
                    adapter.set_written_rows(count(rows));
                    adapter.set_written(path.display().to_string().into());
                }
                Err(e) => adapter.set_error(e.to_string().into()),
            }
        })
    }));
}

// ---- Devices ----

fn open_devices(app: &Rc<App>) {
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_ref()
            .ok_or_else(locked)
            .and_then(Journal::devices);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<DevicesAdapter>();
            match result {
                Ok(devices) => {
                    let items: Vec<DeviceItem> = devices
                        .iter()
                        .map(|d| {
                            let id = d.device_id.to_string();
                            DeviceItem {
                                short_id: format::short_id(&id).into(),
                                id: id.into(),
                                observer: d.observer.as_str().into(),
                                fingerprint: d.fingerprint.as_str().into(),
                                bundle_made: device_time(d.latest_bundle_created_at.as_deref())
                                    .into(),
                                newest_record: device_time(d.newest_entry_at.as_deref()).into(),
                                entries: count(d.entries),
                                gaps: gaps(&d.gaps).into(),
                                accepted: d.accepted_at.is_some(),
                                last_seq: count(d.last_seq),
                                revoked: d.revoked.is_some(),
                                revoked_after: d
                                    .revoked
                                    .as_ref()
                                    .map_or(0, |(after, _, _)| count(*after)),
                                revoked_reason: d
                                    .revoked
                                    .as_ref()
                                    .map(|(_, _, reason)| reason.as_str())
                                    .unwrap_or_default()
                                    .into(),
                            }
                        })
                        .collect();
                    adapter.set_devices(ModelRc::new(VecModel::from(items)));
                    adapter.set_error("".into());
                }
                Err(e) => adapter.set_error(e.to_string().into()),
            }
        })
    }));
}

/// A time the core gives in UTC (`2026-11-24T06:10:00Z`) as the devices screen shows it:
/// `2026-11-24 06:10 UTC`; "" when unknown.
fn device_time(rfc3339: Option<&str>) -> String {
    rfc3339
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| format!("{} UTC", format::time(&t)))
                .unwrap_or_else(|_| t.to_owned())
        })
        .unwrap_or_default()
}

/// Reads the enrolment request named on screen: its observer and fingerprint, to compare.
fn read_enrolment(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<DevicesAdapter>();
    let path = std::path::PathBuf::from(adapter.get_enrol_path().trim());
    adapter.set_enrolled("".into());
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_ref()
            .ok_or_else(locked)
            .and_then(|j| j.inspect_enrolment(&path));
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<DevicesAdapter>();
            match result {
                Ok(check) => {
                    adapter.set_enrol_observer(check.observer.as_str().into());
                    adapter.set_enrol_fingerprint(check.fingerprint.as_str().into());
                    adapter.set_error("".into());
                }
                Err(e) => adapter.set_error(e.to_string().into()),
            }
        })
    }));
}

/// Enrols the device of the request read, its fingerprint confirmed by the coordinator.
fn enrol_device(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<DevicesAdapter>();
    let path = std::path::PathBuf::from(adapter.get_enrol_path().trim());
    let fingerprint = adapter.get_enrol_fingerprint().to_string();
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_mut()
            .ok_or_else(locked)
            .and_then(|j| j.enrol_device(&path, &fingerprint));
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<DevicesAdapter>();
            match result {
                Ok(device) => {
                    adapter.set_enrolled(device.observer.as_str().into());
                    adapter.set_enrol_fingerprint("".into());
                    adapter.set_enrol_observer("".into());
                    adapter.set_enrol_path("".into());
                    open_devices(app);
                    app.notify(Event::JournalChanged(Change::DeviceAccepted));
                }
                Err(e) => adapter.set_error(e.to_string().into()),
            }
        })
    }));
}

/// Revokes the device on screen after its last entry held, then shows the list again; the
/// queue's flags follow.
fn revoke_device(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<DevicesAdapter>();
    let id = adapter.get_revoking().to_string();
    let reason = adapter.get_revoke_reason().to_string();
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_mut()
            .ok_or_else(locked)
            .and_then(|j| j.revoke_device(&id, &reason, None));
        Box::new(move |app: &Rc<App>| match result {
            Ok(_) => {
                if let Some(w) = app.window() {
                    let adapter = w.global::<DevicesAdapter>();
                    adapter.set_revoking("".into());
                    adapter.set_revoke_reason("".into());
                }
                open_devices(app);
                app.notify(Event::JournalChanged(Change::DeviceAccepted));
            }
            Err(e) => {
                if let Some(w) = app.window() {
                    w.global::<DevicesAdapter>().set_error(e.to_string().into());
                }
            }
        })
    }));
}

/// Accepts a device (its fingerprint confirmed with the observer), then shows the list again:
/// its records now count, and the queue's marks go.
fn accept_device(app: &Rc<App>, id: String) {
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_mut()
            .ok_or_else(locked)
            .and_then(|j| j.accept_device(&id));
        Box::new(move |app: &Rc<App>| match result {
            Ok(_) => {
                open_devices(app);
                app.notify(Event::JournalChanged(Change::DeviceAccepted));
            }
            Err(e) => {
                if let Some(w) = app.window() {
                    w.global::<DevicesAdapter>().set_error(e.to_string().into());
                }
            }
        })
    }));
}

// ---- Preferences ----

/// Puts the remembered cut-off and export folder on screen (after an unlock), and the zone
/// the report's times are in.
fn apply_preferences(w: &AppWindow, prefs: &Preferences, zone: MissionZone) {
    let report = w.global::<ReportAdapter>();
    report.set_cutoff(prefs.cutoff.text_in(zone).into());
    report.set_zone(zone.name().into());
    w.global::<ExportsAdapter>().set_out_dir(
        prefs
            .export_dir
            .as_ref()
            .map(|d| d.display().to_string())
            .unwrap_or_default()
            .into(),
    );
}

/// Remembers the cut-off on screen, when it is a valid time of day: in the mission's zone, or
/// the zone written after it.
fn remember_cutoff(app: &Rc<App>, text: &str) {
    if let Ok(cutoff) = period::parse_cutoff(text, app.vocabulary().zone) {
        app.remember(move |p| p.cutoff = cutoff);
    }
}

/// Forgets everything the coordinator screens showed (on lock), the working preferences
/// included: the journal keeps them and the next unlock restores them.
fn clear(window: &AppWindow, shown: &Shown) {
    *shown.borrow_mut() = None;
    let report = window.global::<ReportAdapter>();
    report.set_cutoff("00:00".into());
    report.set_zone("UTC".into());
    report.set_ready(false);
    report.set_total(0);
    report.set_previous_total(0);
    report.set_breakdowns(ModelRc::default());
    report.set_daily(ModelRc::default());
    report.set_period("".into());
    report.set_saved("".into());
    report.set_error("".into());
    let alerts = window.global::<AlertsAdapter>();
    alerts.set_alerts(ModelRc::default());
    alerts.set_ready(false);
    alerts.set_error("".into());
    let exports = window.global::<ExportsAdapter>();
    exports.set_written("".into());
    exports.set_error("".into());
    exports.set_out_dir("".into());
    let devices = window.global::<DevicesAdapter>();
    devices.set_devices(ModelRc::default());
    devices.set_error("".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_the_latest_one_before_now() {
        let utc = MissionZone::Utc;
        let now = parse_time("2026-11-24 10:00", utc).expect("time");
        let text = |t: DateTime<Utc>| utc.format(t);
        assert_eq!(
            text(latest_cutoff("19:30", utc, now).expect("cut-off")),
            "2026-11-23 19:30"
        );
        assert_eq!(
            text(latest_cutoff("06:00", utc, now).expect("cut-off")),
            "2026-11-24 06:00"
        );
        assert!(latest_cutoff("25:00", utc, now).is_err());
        assert!(parse_time("yesterday", utc).is_err());
        assert_eq!(
            text(parse_time("2026-11-24", utc).expect("day")),
            "2026-11-24 00:00"
        );
        // In the mission's zone (Kyiv, UTC+2 in November), unless the cut-off names its own.
        let kyiv = MissionZone::parse("Europe/Kyiv").expect("zone");
        assert_eq!(
            text(latest_cutoff("19:30", kyiv, now).expect("cut-off")),
            "2026-11-23 17:30"
        );
        assert_eq!(
            text(latest_cutoff("19:30 UTC", kyiv, now).expect("cut-off")),
            "2026-11-23 19:30"
        );
    }

    #[test]
    fn export_files_are_named_by_format_and_time() {
        let at = parse_time("2026-11-24 10:00", MissionZone::Utc).expect("time");
        assert_eq!(
            export_file_name(DataFormat::Hxl, true, at),
            "truce-public-20261124-100000.hxl.csv"
        );
        assert_eq!(
            export_file_name(DataFormat::Csv, false, at),
            "truce-20261124-100000.csv"
        );
    }
}
