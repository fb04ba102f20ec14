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
use uuid::Uuid;

use truce_core::coordination::preferences::{sort_code, sort_from_code, QueuePreferences};
use truce_core::journal::{Journal, JournalError};
use truce_core::model::{ObservationFilter, QueueExtra, QueuePage, SortOrder};
use truce_core::period::MissionZone;

use crate::format::{self, day_ms};
use crate::rows::{choice_list, choices, queue_row_item};
use crate::state::{on_app, on_app_with, App, Change, Event, Vocabulary};
use crate::ui::{AppWindow, QueueAdapter, QueueItem, Screen};

/// Rows per page.
pub const PAGE: usize = 200;

/// The queue's rows and the query they answer (decrypted; cleared on lock).
struct QueueState {
    rows: Rc<VecModel<QueueItem>>,
    /// Bumped by every new query: replies to an older one are dropped.
    generation: Cell<u64>,
    query: RefCell<Option<(ObservationFilter, QueueExtra)>>,
}

/// The queue's kind, category and party filters, from the mission profile.
fn set_vocabulary(window: &AppWindow, vocabulary: &Vocabulary) {
    let adapter = window.global::<QueueAdapter>();
    adapter.set_kinds(choices(&vocabulary.taxonomy.kinds));
    adapter.set_categories(choices(&vocabulary.taxonomy.categories));
    adapter.set_parties(choices(&vocabulary.parties));
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let state = Rc::new(QueueState {
        rows: Rc::new(VecModel::default()),
        generation: Cell::new(0),
        query: RefCell::new(None),
    });
    let adapter = window.global::<QueueAdapter>();
    adapter.set_rows(ModelRc::from(state.rows.clone()));
    clear(window, &state);
    set_vocabulary(window, &app.vocabulary());

    let s = state.clone();
    adapter.on_filter_changed(on_app(app, move |app| reload(app, &s)));
    let s = state.clone();
    adapter.on_clear_filters(on_app(app, move |app| {
        if let Some(w) = app.window() {
            reset_filters(&w);
        }
        reload(app, &s);
    }));
    let s = state.clone();
    adapter.on_load_more(on_app(app, move |app| load_more(app, &s)));
    adapter.on_open(on_app_with(app, move |app, id: slint::SharedString| {
        app.open_observation(id.as_str());
    }));

    app.subscribe(move |app, event| {
        let Some(w) = app.window() else { return };
        match event {
            Event::ProfileChanged => set_vocabulary(&w, &app.vocabulary()),
            Event::Locked => clear(&w, &state),
            // The home screen shows again: nothing is open beside the list. (An import
            // refreshes the queue itself; a status saved in the detail is already on its card.)
            Event::Shown {
                to: Screen::Journal,
                ..
            } => w.global::<QueueAdapter>().set_selected_id("".into()),
            // Marks the open observation in the list (wide layout).
            Event::Selected => {
                let id = app
                    .selected()
                    .map(|r| r.key().to_string())
                    .unwrap_or_default();
                w.global::<QueueAdapter>().set_selected_id(id.into());
            }
            Event::StatusChanged { id, status } => set_status(&state, id, *status),
            Event::AlertCount(n) => w
                .global::<QueueAdapter>()
                .set_alert_count((*n).min(i32::MAX as usize) as i32),
            Event::JournalChanged(Change::Opened | Change::Imported) => refresh(app, &state),
            Event::JournalChanged(Change::DeviceAccepted) => reload(app, &state),
            Event::PreferencesLoaded => {
                // Right after an unlock: the remembered filters, then the first page.
                if let Some(prefs) = app.preferences() {
                    apply_preferences(&w, &prefs.queue);
                }
                reload(app, &state);
            }
            _ => {}
        }
    });
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

/// The query the filters on screen describe, or what is wrong with them.
fn query(w: &AppWindow, zone: MissionZone) -> Result<(ObservationFilter, QueueExtra), String> {
    let a = w.global::<QueueAdapter>();
    let from_ms = day_ms(&a.get_from_date(), false, zone)?;
    let to_ms = day_ms(&a.get_to_date(), true, zone)?;
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
fn reload(app: &Rc<App>, state: &Rc<QueueState>) {
    let Some(w) = app.window() else { return };
    if !app.is_unlocked() || !app.is_coordinator() {
        return;
    }
    let adapter = w.global::<QueueAdapter>();
    let (filter, extra) = match query(&w, app.vocabulary().zone) {
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
    app.remember(move |p| p.queue = chosen);
    *state.query.borrow_mut() = Some((filter.clone(), extra.clone()));
    fetch(app, state, filter, extra, 0);
}

fn day(text: &str) -> Option<NaiveDate> {
    truce_core::period::parse_day(text).ok()
}

/// Puts remembered filters on screen (after an unlock); the caller reloads.
fn apply_preferences(w: &AppWindow, p: &QueuePreferences) {
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

fn load_more(app: &Rc<App>, state: &Rc<QueueState>) {
    let Some(query) = state.query.borrow().clone() else {
        return;
    };
    fetch(app, state, query.0, query.1, state.rows.row_count());
}

fn fetch(
    app: &Rc<App>,
    state: &Rc<QueueState>,
    filter: ObservationFilter,
    extra: QueueExtra,
    offset: usize,
) {
    let Some(w) = app.window() else { return };
    let generation = state.generation.get() + 1;
    state.generation.set(generation);
    w.global::<QueueAdapter>().set_loading(true);
    let state = state.clone();
    app.submit_then(
        move |journal| {
            journal
                .as_ref()
                .ok_or_else(locked)
                .and_then(|j| j.queue_page(&filter, &extra, offset, PAGE))
        },
        move |app, result| show_page(app, &state, generation, offset, result),
    );
}

fn show_page(
    app: &Rc<App>,
    state: &QueueState,
    generation: u64,
    offset: usize,
    result: Result<QueuePage, JournalError>,
) {
    let Some(w) = app.window() else { return };
    if generation != state.generation.get() || !app.is_unlocked() {
        return;
    }
    let adapter = w.global::<QueueAdapter>();
    adapter.set_loading(false);
    match result {
        Ok(page) => {
            let vocabulary = app.vocabulary();
            let items: Vec<QueueItem> = page
                .rows
                .iter()
                .map(|r| queue_row_item(r, &vocabulary.taxonomy))
                .collect();
            if offset == 0 {
                state.rows.set_vec(items);
            } else {
                state.rows.extend(items);
            }
            adapter.set_more(page.more);
        }
        Err(e) => adapter.set_error(e.to_string().into()),
    }
}

/// What the filters offer besides the profile's codes (`App::vocabulary`): the profile's
/// areas, the devices.
struct Options {
    areas: Vec<(String, String)>,
    devices: Vec<(String, String)>,
    alerts: usize,
}

fn options(journal: &Journal) -> Result<Options, JournalError> {
    let areas = journal
        .profile()?
        .map(|p| {
            p.profile
                .areas
                .into_iter()
                .map(|a| (a.code, a.label))
                .collect::<Vec<_>>()
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
        devices,
        alerts: journal.alerts()?.len(),
    })
}

/// After an unlock or an import: the filter choices, the alert count, and the first page.
fn refresh(app: &Rc<App>, state: &Rc<QueueState>) {
    if app.window().is_none() || !app.is_unlocked() || !app.is_coordinator() {
        return;
    }
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().ok_or_else(locked).and_then(options);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            if !app.is_unlocked() {
                return;
            }
            let adapter = w.global::<QueueAdapter>();
            match result {
                Ok(o) => {
                    adapter.set_areas(choice_list(o.areas));
                    adapter.set_devices(choice_list(o.devices));
                    adapter.set_alert_count(o.alerts.min(i32::MAX as usize) as i32);
                }
                Err(e) => adapter.set_error(e.to_string().into()),
            }
        })
    }));
    if app.preferences().is_some() {
        reload(app, state);
    } else {
        // Right after an unlock: the remembered filters first, then the first page.
        app.load_preferences();
    }
}

/// Shows a new status on the observation's card without reading the page again.
fn set_status(state: &QueueState, id: &str, status: VerificationStatus) {
    let rows = &state.rows;
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
fn clear(window: &AppWindow, state: &QueueState) {
    state.generation.set(state.generation.get() + 1);
    state.rows.set_vec(Vec::new());
    *state.query.borrow_mut() = None;
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
