//! Adapter for `JournalAdapter`: the list, newest first, filtered by kind, category and day and
//! searched in narratives. Filtering runs in the journal (`Journal::query`, SQL) on the journal
//! thread, a page of [`PAGE`] rows at a time ("Show more" loads the next page), so a journal of
//! 100,000 records never loads whole. Each row of this device's own records carries
//! where it stands: not exported, awaiting a coordinator's receipt, or received
//! (`Journal::delivery_states`). The list is a live `slint::Model`: a row's
//! texts are made when the `ListView` shows it.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use chrono::{Duration as Days, Local, NaiveDate, TimeZone};
use slint::{ComponentHandle, Model, ModelNotify, ModelRc, ModelTracker};
use truce_sync::ObservationRevision;
use uuid::Uuid;

use truce_core::journal::{Journal, JournalError};
use truce_core::model::{DeliveryState, ObservationFilter};

use crate::rows::{choices, observation_row};
use crate::state::{on_app, on_app_with, App, Change, Event, Vocabulary};
use crate::ui::{AppWindow, Delivery, JournalAdapter, ObservationRow, Screen};

/// Rows loaded at a time.
pub const PAGE: u32 = 200;

/// The rows the `ListView` shows: the loaded page, made into `ObservationRow`s only on demand
/// (the `ListView` asks for the visible ones).
struct JournalModel {
    /// The latest revision of every observation of the page, newest first (decrypted;
    /// cleared on lock).
    all: RefCell<Vec<ObservationRevision>>,
    delivery: RefCell<HashMap<Uuid, DeliveryState>>,
    /// The mission profile's codes, for the labels.
    vocabulary: RefCell<Rc<Vocabulary>>,
    notify: ModelNotify,
}

impl Model for JournalModel {
    type Data = ObservationRow;

    fn row_count(&self) -> usize {
        self.all.borrow().len()
    }

    fn row_data(&self, row_index: usize) -> Option<ObservationRow> {
        self.all.borrow().get(row_index).map(|o| {
            let mut shown = observation_row(o, &self.vocabulary.borrow().taxonomy);
            shown.delivery = match self.delivery.borrow().get(&o.observation.id) {
                Some(DeliveryState::NotExported) => Delivery::NotExported,
                Some(DeliveryState::AwaitingConfirmation) => Delivery::Awaiting,
                Some(DeliveryState::Received) => Delivery::Received,
                None => Delivery::None,
            };
            shown
        })
    }

    fn model_tracker(&self) -> &dyn ModelTracker {
        &self.notify
    }
}

/// The list model and the paging state.
struct JournalState {
    rows: Rc<JournalModel>,
    /// Pages asked for (1 after unlock or a filter change).
    pages: Cell<u32>,
    /// Bumped by each query; a reply for an older one is dropped.
    generation: Cell<u64>,
}

/// The journal's filter chips, and the rows' labels, from the mission profile.
fn set_vocabulary(window: &AppWindow, state: &JournalState, vocabulary: Rc<Vocabulary>) {
    let adapter = window.global::<JournalAdapter>();
    adapter.set_kinds(choices(&vocabulary.taxonomy.kinds));
    adapter.set_categories(choices(&vocabulary.taxonomy.categories));
    *state.rows.vocabulary.borrow_mut() = vocabulary;
    state.rows.notify.reset();
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let state = Rc::new(JournalState {
        rows: Rc::new(JournalModel {
            all: RefCell::new(Vec::new()),
            delivery: RefCell::new(HashMap::new()),
            vocabulary: RefCell::new(app.vocabulary()),
            notify: ModelNotify::default(),
        }),
        pages: Cell::new(1),
        generation: Cell::new(0),
    });
    let adapter = window.global::<JournalAdapter>();
    adapter.set_rows(ModelRc::from(state.rows.clone()));
    set_vocabulary(window, &state, app.vocabulary());
    adapter.set_total(0);
    adapter.set_has_more(false);

    let s = state.clone();
    adapter.on_filter_changed(on_app(app, move |app| {
        s.pages.set(1);
        refresh(app, &s);
    }));
    let s = state.clone();
    adapter.on_show_more(on_app(app, move |app| {
        s.pages.set(s.pages.get().saturating_add(1));
        refresh(app, &s);
    }));
    adapter.on_open(on_app_with(app, move |app, id: slint::SharedString| {
        app.open_observation(id.as_str());
    }));
    adapter.on_new_observation(on_app(app, |app| app.go(Screen::Entry)));

    app.subscribe(move |app, event| {
        let Some(w) = app.window() else { return };
        match event {
            Event::ProfileChanged => set_vocabulary(&w, &state, app.vocabulary()),
            Event::Locked => clear(&w, &state),
            Event::Shown { to, .. } => {
                if *to != Screen::Detail {
                    w.global::<JournalAdapter>().set_selected_id("".into());
                }
                // Back to the list: badges and counts may have changed (an export, an
                // amendment).
                if *to == Screen::Journal {
                    refresh(app, &state);
                }
            }
            Event::Selected => {
                let id = app
                    .selected()
                    .map(|r| r.key().to_string())
                    .unwrap_or_default();
                w.global::<JournalAdapter>().set_selected_id(id.into());
            }
            Event::JournalChanged(change) => {
                match change {
                    Change::Opened => state.rows.all.borrow_mut().clear(),
                    Change::Saved(revision) => upsert(&state, revision),
                    Change::Imported => {}
                    Change::DeviceAccepted => return,
                }
                refresh(app, &state);
            }
            _ => {}
        }
    });
}

/// Puts a new or amended observation in its place in the page (the order of `Journal::list`:
/// observed_at, then id, newest first), before the page is read again.
fn upsert(state: &JournalState, revision: &ObservationRevision) {
    {
        let mut list = state.rows.all.borrow_mut();
        let key = revision.key();
        list.retain(|r| r.key() != key);
        let key = |r: &ObservationRevision| {
            (
                r.observation.observed_at.timestamp_millis(),
                r.observation.id,
            )
        };
        let new_key = key(revision);
        let at = list.partition_point(|r| key(r) > new_key);
        list.insert(at, revision.clone());
    }
    state.rows.notify.reset();
}

/// The local day `YYYY-MM-DD` as a half-open range of Unix milliseconds; `None` when the text
/// is not a date.
fn day_range(day: &str) -> Option<(i64, i64)> {
    let date = truce_core::period::parse_day(day).ok()?;
    let start = |d: NaiveDate| {
        let midnight = d.and_hms_opt(0, 0, 0)?;
        Local
            .from_local_datetime(&midnight)
            .earliest()
            .map(|t| t.timestamp_millis())
    };
    Some((start(date)?, start(date.succ_opt()?)?))
}

/// The query for the filters the list shows, `pages` pages long plus one row (to know whether
/// there is more). `None` when the day typed is not a date.
fn filter_for(
    kind: &str,
    category: &str,
    day: &str,
    search: &str,
    pages: u32,
) -> Option<ObservationFilter> {
    let (from_ms, to_ms) = if day.trim().is_empty() {
        (None, None)
    } else {
        let (from, to) = day_range(day)?;
        (Some(from), Some(to))
    };
    let one = |code: &str| {
        if code.is_empty() {
            Vec::new()
        } else {
            vec![code.to_owned()]
        }
    };
    Some(ObservationFilter {
        from_ms,
        to_ms,
        kinds: one(kind),
        categories: one(category),
        text: Some(search.trim().to_owned()).filter(|s| !s.is_empty()),
        limit: Some(pages.saturating_mul(PAGE).saturating_add(1)),
        ..ObservationFilter::default()
    })
}

/// One page load: the rows, whether more match, where this device's own stand, the
/// journal's total.
struct Loaded {
    rows: Vec<ObservationRevision>,
    more: bool,
    delivery: HashMap<Uuid, DeliveryState>,
    total: u64,
}

fn load(journal: &Journal, filter: &ObservationFilter) -> Result<Loaded, JournalError> {
    let limit = filter.limit.unwrap_or(PAGE) as usize;
    let mut rows: Vec<ObservationRevision> = journal
        .query(filter)?
        .into_iter()
        .map(|r| r.revision)
        .collect();
    let more = rows.len() >= limit;
    rows.truncate(limit.saturating_sub(1));
    let ids: Vec<Uuid> = rows.iter().map(|r| r.observation.id).collect();
    Ok(Loaded {
        delivery: journal.delivery_states(&ids)?,
        rows,
        more,
        total: journal.count()?,
    })
}

/// Loads the rows that pass the filters, on the journal thread, and shows them.
fn refresh(app: &Rc<App>, state: &Rc<JournalState>) {
    let Some(window) = app.window() else { return };
    let adapter = window.global::<JournalAdapter>();
    let today = Local::now().date_naive();
    adapter.set_today(today.format("%Y-%m-%d").to_string().into());
    adapter.set_yesterday(
        (today - Days::days(1))
            .format("%Y-%m-%d")
            .to_string()
            .into(),
    );
    let Some(filter) = filter_for(
        &adapter.get_kind_filter(),
        &adapter.get_category_filter(),
        &adapter.get_day_filter(),
        &adapter.get_search(),
        state.pages.get(),
    ) else {
        adapter.set_day_error(true);
        return;
    };
    adapter.set_day_error(false);
    if !app.is_unlocked() {
        return;
    }
    let generation = state.generation.get() + 1;
    state.generation.set(generation);
    let state = state.clone();
    app.submit_quiet_then(
        move |journal| {
            journal
                .as_ref()
                .map(|j| load(j, &filter))
                .unwrap_or_else(|| Err(JournalError::Locked))
        },
        move |app, result| {
            if state.generation.get() != generation || !app.is_unlocked() {
                return;
            }
            let Some(w) = app.window() else { return };
            match result {
                Ok(loaded) => show(&w, app, &state, loaded),
                Err(e) => tracing::warn!("cannot load the journal list: {e}"),
            }
        },
    );
}

fn show(window: &AppWindow, app: &Rc<App>, state: &JournalState, loaded: Loaded) {
    *state.rows.all.borrow_mut() = loaded.rows;
    *state.rows.delivery.borrow_mut() = loaded.delivery;
    state.rows.notify.reset();
    let adapter = window.global::<JournalAdapter>();
    adapter.set_total(loaded.total.min(i32::MAX as u64) as i32);
    adapter.set_has_more(loaded.more);
    app.notify(Event::RecordCount(loaded.total));
}

/// Forgets every row and filter (on lock).
fn clear(window: &AppWindow, state: &JournalState) {
    state.generation.set(state.generation.get() + 1);
    state.pages.set(1);
    state.rows.all.borrow_mut().clear();
    state.rows.delivery.borrow_mut().clear();
    state.rows.notify.reset();
    let adapter = window.global::<JournalAdapter>();
    adapter.set_total(0);
    adapter.set_has_more(false);
    adapter.set_search("".into());
    adapter.set_kind_filter("".into());
    adapter.set_category_filter("".into());
    adapter.set_day_filter("".into());
    adapter.set_day_error(false);
    adapter.set_filters_open(false);
    adapter.set_selected_id("".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_is_a_local_half_open_range() {
        let (from, to) = day_range("2026-11-24").expect("a date");
        assert!(to - from >= 23 * 3600 * 1000 && to - from <= 25 * 3600 * 1000);
        let t = Local
            .with_ymd_and_hms(2026, 11, 24, 23, 59, 0)
            .earliest()
            .expect("a time")
            .timestamp_millis();
        assert!(from <= t && t < to);
        assert!(day_range("24/11/2026").is_none());
        assert!(day_range("2026-02-30").is_none());
    }

    #[test]
    fn filters_become_one_query_a_page_long() {
        let f = filter_for("violation", "shelling", "", "  mortar ", 1).expect("valid");
        assert_eq!(f.kinds, vec!["violation".to_owned()]);
        assert_eq!(f.categories, vec!["shelling".to_owned()]);
        assert_eq!(f.text.as_deref(), Some("mortar"));
        assert_eq!(f.limit, Some(PAGE + 1));
        assert_eq!(f.from_ms, None);
        let f = filter_for("", "", "2026-11-24", "", 3).expect("valid");
        assert!(f.kinds.is_empty() && f.categories.is_empty() && f.text.is_none());
        assert_eq!(f.limit, Some(3 * PAGE + 1));
        assert!(f.from_ms.is_some() && f.to_ms.is_some());
        assert!(filter_for("", "", "yesterday", "", 1).is_none());
    }
}
