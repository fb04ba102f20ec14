//! Adapter for `QueueAdapter`: the coordinator's incident queue. Every device's observations
//! with their verification status, filtered and sorted in the store through
//! `Journal::queue_page`, 200 at a time ("Load more" appends the next page). Only the pages
//! asked for are ever read; a reply for filters that changed since is dropped. The filters
//! (not the search) are kept in the journal as preferences and restored on unlock.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use chrono::NaiveDate;
use slint::{ComponentHandle, Model, ModelRc, VecModel};
use truce_sync::verification::VerificationStatus;
use truce_sync::{ObservationRevision, Taxonomy};
use uuid::Uuid;

use truce_core::coordination::preferences::{sort_code, sort_from_code, QueuePreferences};
use truce_core::journal::{Journal, JournalError};
use truce_core::model::{ObservationFilter, QueueRow, SortOrder};
use truce_core::model::{QueueExtra, QueuePage};

use super::journal_view::{choices, row};
use super::ui::{AppWindow, Choice, QueueAdapter, QueueItem, SyncAdapter};
use super::{coordinator, detail, format, on_app, on_app_with, App};

/// Rows per page.
pub const PAGE: usize = 200;

/// The queue's rows and the query they answer (decrypted; cleared on lock).
pub(crate) struct QueueState {
    rows: Rc<VecModel<QueueItem>>,
    /// Bumped by every new query: replies to an older one are dropped.
    generation: Cell<u64>,
    query: RefCell<Option<(ObservationFilter, QueueExtra)>>,
}

impl Default for QueueState {
    fn default() -> Self {
        QueueState {
            rows: Rc::new(VecModel::default()),
            generation: Cell::new(0),
            query: RefCell::new(None),
        }
    }
}

/// Whether the unlocked journal is a coordinator's (the queue replaces the journal list).
pub(crate) fn is_coordinator(window: &AppWindow) -> bool {
    window.global::<SyncAdapter>().get_coordinator()
}

/// A queue row as the cards show it.
pub(crate) fn item(
    revision: &ObservationRevision,
    status: VerificationStatus,
    taxonomy: &Taxonomy,
) -> QueueItem {
    let r = row(revision, taxonomy);
    QueueItem {
        id: r.id,
        short_id: r.short_id,
        kind: r.kind,
        kind_label: r.kind_label,
        category: r.category,
        category_label: r.category_label,
        time: r.time,
        severity: r.severity,
        excerpt: r.excerpt,
        place: r.place,
        observer: revision.observer.as_str().into(),
        status: status.code().into(),
        device_pending: false,
        id_shared: false,
    }
}

/// The queue's kind and category filters, from the mission profile's taxonomy.
pub(crate) fn set_taxonomy(window: &AppWindow, taxonomy: &Taxonomy) {
    let adapter = window.global::<QueueAdapter>();
    adapter.set_kinds(choices(&taxonomy.kinds));
    adapter.set_categories(choices(&taxonomy.categories));
}

/// A queue row as the cards show it, with its marks: a device not accepted yet, an id that
/// another device used too.
pub(crate) fn queue_item(row: &QueueRow, taxonomy: &Taxonomy) -> QueueItem {
    QueueItem {
        device_pending: row.device_pending,
        id_shared: !row.id_also_used_by.is_empty(),
        ..item(&row.revision, row.status, taxonomy)
    }
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let adapter = window.global::<QueueAdapter>();
    adapter.set_rows(ModelRc::from(app.queue.rows.clone()));
    set_taxonomy(window, &app.taxonomy.borrow());
    clear(window, app);

    adapter.on_filter_changed(on_app(app, reload));
    adapter.on_clear_filters(on_app(app, move |app| {
        if let Some(w) = app.window() {
            reset_filters(&w);
        }
        reload(app);
    }));
    adapter.on_load_more(on_app(app, load_more));
    adapter.on_open(on_app_with(app, move |app, id: slint::SharedString| {
        detail::open(app, id.as_str());
    }));
}

fn reset_filters(w: &AppWindow) {
    let adapter = w.global::<QueueAdapter>();
    for set in [
        QueueAdapter::set_from_date,
        QueueAdapter::set_to_date,
        QueueAdapter::set_status,
        QueueAdapter::set_kind,
        QueueAdapter::set_category,
        QueueAdapter::set_area,
        QueueAdapter::set_party,
        QueueAdapter::set_device,
    ] {
        set(&adapter, "".into());
    }
    adapter.set_error("".into());
}

/// The first millisecond of a `YYYY-MM-DD` day (UTC), or of the day after it (`end`).
pub(crate) fn day_ms(text: &str, end: bool) -> Result<Option<i64>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let day = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("“{text}” is not a day: write it as YYYY-MM-DD, e.g. 2026-11-24"))?;
    Ok(Some(truce_core::report::utc_day_bound_ms(day, end)))
}

/// The query the filters on screen describe, or what is wrong with them.
fn query(w: &AppWindow) -> Result<(ObservationFilter, QueueExtra), String> {
    let a = w.global::<QueueAdapter>();
    let from_ms = day_ms(&a.get_from_date(), false)?;
    let to_ms = day_ms(&a.get_to_date(), true)?;
    if let (Some(from), Some(to)) = (from_ms, to_ms) {
        if to <= from {
            return Err("the last day is before the first".into());
        }
    }
    let one = |s: slint::SharedString| -> Vec<String> {
        if s.is_empty() {
            Vec::new()
        } else {
            vec![s.to_string()]
        }
    };
    let device = a.get_device();
    let filter = ObservationFilter {
        from_ms,
        to_ms,
        kinds: one(a.get_kind()),
        categories: one(a.get_category()),
        statuses: VerificationStatus::from_code(&a.get_status())
            .into_iter()
            .collect(),
        device: if device.is_empty() {
            None
        } else {
            Some(Uuid::parse_str(&device).map_err(|e| e.to_string())?)
        },
        text: Some(a.get_search().trim().to_owned()).filter(|t| !t.is_empty()),
        limit: None,
        sort: sort_from_code(a.get_sort().as_str()).unwrap_or(SortOrder::NewestObserved),
        // The queue shows every record held, those of devices not accepted yet marked.
        include_pending_devices: true,
    };
    let extra = QueueExtra {
        area: Some(a.get_area().to_string()).filter(|s| !s.is_empty()),
        party: Some(a.get_party().to_string()).filter(|s| !s.is_empty()),
    };
    Ok((filter, extra))
}

fn locked() -> JournalError {
    JournalError::Locked
}

/// Reads the first page again for the filters on screen.
pub(crate) fn reload(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    if !app.unlocked.get() || !is_coordinator(&w) {
        return;
    }
    let adapter = w.global::<QueueAdapter>();
    let (filter, extra) = match query(&w) {
        Ok(q) => q,
        Err(e) => {
            adapter.set_error(e.into());
            return;
        }
    };
    adapter.set_error("".into());
    let chosen = QueuePreferences {
        from_day: day(&adapter.get_from_date()),
        to_day: day(&adapter.get_to_date()),
        area: extra.area.clone(),
        kind: filter.kinds.first().cloned(),
        category: filter.categories.first().cloned(),
        party: extra.party.clone(),
        status: filter.statuses.first().copied(),
        device: filter.device,
        sort: filter.sort,
    };
    coordinator::remember(app, move |p| p.queue = chosen);
    *app.queue.query.borrow_mut() = Some((filter.clone(), extra.clone()));
    fetch(app, filter, extra, 0);
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Puts remembered filters on screen (after an unlock); the caller reloads.
pub(crate) fn apply_preferences(w: &AppWindow, p: &QueuePreferences) {
    let adapter = w.global::<QueueAdapter>();
    let day = |d: Option<NaiveDate>| -> slint::SharedString {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
            .into()
    };
    let text = |s: &Option<String>| -> slint::SharedString { s.clone().unwrap_or_default().into() };
    adapter.set_from_date(day(p.from_day));
    adapter.set_to_date(day(p.to_day));
    adapter.set_area(text(&p.area));
    adapter.set_kind(text(&p.kind));
    adapter.set_category(text(&p.category));
    adapter.set_party(text(&p.party));
    adapter.set_status(p.status.map(|s| s.code()).unwrap_or("").into());
    adapter.set_device(p.device.map(|d| d.to_string()).unwrap_or_default().into());
    adapter.set_sort(sort_code(p.sort).into());
}

fn load_more(app: &Rc<App>) {
    let Some(query) = app.queue.query.borrow().clone() else {
        return;
    };
    fetch(app, query.0, query.1, app.queue.rows.row_count());
}

fn fetch(app: &Rc<App>, filter: ObservationFilter, extra: QueueExtra, offset: usize) {
    let Some(w) = app.window() else { return };
    let generation = app.queue.generation.get() + 1;
    app.queue.generation.set(generation);
    w.global::<QueueAdapter>().set_loading(true);
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_ref()
            .ok_or_else(locked)
            .and_then(|j| j.queue_page(&filter, &extra, offset, PAGE));
        Box::new(move |app: &Rc<App>| show_page(app, generation, offset, result))
    }));
}

fn show_page(
    app: &Rc<App>,
    generation: u64,
    offset: usize,
    result: Result<QueuePage, JournalError>,
) {
    let Some(w) = app.window() else { return };
    if generation != app.queue.generation.get() || !app.unlocked.get() {
        return;
    }
    let adapter = w.global::<QueueAdapter>();
    adapter.set_loading(false);
    match result {
        Ok(page) => {
            let items: Vec<QueueItem> = page
                .rows
                .iter()
                .map(|r| queue_item(r, &app.taxonomy.borrow()))
                .collect();
            if offset == 0 {
                app.queue.rows.set_vec(items);
            } else {
                app.queue.rows.extend(items);
            }
            adapter.set_more(page.more);
        }
        Err(e) => adapter.set_error(e.to_string().into()),
    }
}

/// What the filters offer besides the taxonomy: the profile's areas and parties, the devices.
struct Options {
    areas: Vec<(String, String)>,
    parties: Vec<(String, String)>,
    devices: Vec<(String, String)>,
    alerts: usize,
}

fn options(journal: &Journal) -> Result<Options, JournalError> {
    let profile = journal.profile()?.map(|p| p.profile);
    let (areas, parties) = profile
        .map(|p| {
            (
                p.areas
                    .into_iter()
                    .map(|a| (a.code, a.label))
                    .collect::<Vec<_>>(),
                p.parties
                    .into_iter()
                    .map(|c| (c.code, c.label))
                    .collect::<Vec<_>>(),
            )
        })
        .unwrap_or_default();
    let devices = journal
        .devices()?
        .into_iter()
        .map(|d| {
            let id = d.device_id.to_string();
            let label = format!("{} · {}", d.observer, format::short_id(&id));
            (id, label)
        })
        .collect();
    Ok(Options {
        areas,
        parties,
        devices,
        alerts: journal.alerts()?.len(),
    })
}

fn choice_model(list: Vec<(String, String)>) -> ModelRc<Choice> {
    let items: Vec<Choice> = list
        .into_iter()
        .map(|(code, label)| Choice {
            code: code.into(),
            label: label.into(),
        })
        .collect();
    ModelRc::new(VecModel::from(items))
}

/// After an unlock or an import: the filter choices, the alert count, and the first page.
pub(crate) fn refresh(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    if !app.unlocked.get() || !is_coordinator(&w) {
        return;
    }
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().ok_or_else(locked).and_then(options);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            if !app.unlocked.get() {
                return;
            }
            let adapter = w.global::<QueueAdapter>();
            match result {
                Ok(o) => {
                    adapter.set_areas(choice_model(o.areas));
                    adapter.set_parties(choice_model(o.parties));
                    adapter.set_devices(choice_model(o.devices));
                    adapter.set_alert_count(o.alerts.min(i32::MAX as usize) as i32);
                }
                Err(e) => adapter.set_error(e.to_string().into()),
            }
        })
    }));
    if coordinator::preferences_loaded(app) {
        reload(app);
    } else {
        // Right after an unlock: the remembered filters first, then the first page.
        coordinator::load_preferences(app);
    }
}

/// The home screen shows again: nothing is open beside the list. (An import refreshes the
/// queue itself; a status saved in the detail is already on its card.)
pub(crate) fn home(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    w.global::<QueueAdapter>().set_selected_id("".into());
}

/// Marks the open observation in the list (wide layout).
pub(crate) fn select(window: &AppWindow, id: &str) {
    window.global::<QueueAdapter>().set_selected_id(id.into());
}

/// Shows a new status on the observation's card without reading the page again.
pub(crate) fn set_status(app: &App, id: &str, status: VerificationStatus) {
    let rows = &app.queue.rows;
    for i in 0..rows.row_count() {
        if let Some(mut row) = rows.row_data(i) {
            if row.id == id {
                row.status = status.code().into();
                rows.set_row_data(i, row);
            }
        }
    }
}

/// Forgets every row and filter (on lock).
pub(crate) fn clear(window: &AppWindow, app: &App) {
    app.queue.generation.set(app.queue.generation.get() + 1);
    app.queue.rows.set_vec(Vec::new());
    *app.queue.query.borrow_mut() = None;
    reset_filters(window);
    let adapter = window.global::<QueueAdapter>();
    adapter.set_search("".into());
    adapter.set_sort("newest".into());
    adapter.set_more(false);
    adapter.set_loading(false);
    adapter.set_filters_open(false);
    adapter.set_selected_id("".into());
    adapter.set_alert_count(0);
    adapter.set_areas(ModelRc::default());
    adapter.set_parties(ModelRc::default());
    adapter.set_devices(ModelRc::default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_and_the_last_one_is_included() {
        assert_eq!(day_ms("", false), Ok(None));
        let from = day_ms("2026-11-24", false).expect("day").expect("ms");
        let to = day_ms("2026-11-24", true).expect("day").expect("ms");
        assert_eq!(to - from, 86_400_000);
        assert!(day_ms("24/11/2026", false).is_err());
    }
}
