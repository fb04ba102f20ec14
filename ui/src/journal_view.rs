//! Adapter for `JournalAdapter`: the list, newest first, filtered by kind, category and day and
//! searched in narratives. Filtering runs in the journal (`Journal::query`, SQL) on the journal
//! thread, a page of [`PAGE`] rows at a time ("Show more" loads the next page), so a journal of
//! 100,000 records never loads whole. Rows saved since the last export carry a "not yet
//! exported" badge (`Journal::unexported_among`). The list is a live `slint::Model`: a row's
//! texts are made when the `ListView` shows it.

use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::rc::Rc;

use chrono::{Duration as Days, Local, NaiveDate, TimeZone};
use slint::{ComponentHandle, Model, ModelNotify, ModelRc, ModelTracker, VecModel};
use truce_sync::{ObservationRevision, Taxonomy};
use uuid::Uuid;

use truce_core::journal::{Journal, JournalError};
use truce_core::model::ObservationFilter;

use super::ui::{AppWindow, Choice, JournalAdapter, ObservationRow};
use super::{detail, entry, format, on_app, on_app_with, App};

/// Rows loaded at a time.
pub const PAGE: u32 = 200;

/// The rows the `ListView` shows: the app's loaded page, made into `ObservationRow`s only on
/// demand (the `ListView` asks for the visible ones).
pub(crate) struct JournalModel {
    all: RefCell<Rc<RefCell<Vec<ObservationRevision>>>>,
    unexported: RefCell<HashSet<Uuid>>,
    /// The app's taxonomy (the mission profile's), shared.
    taxonomy: RefCell<Rc<RefCell<Taxonomy>>>,
    notify: ModelNotify,
}

impl Model for JournalModel {
    type Data = ObservationRow;

    fn row_count(&self) -> usize {
        self.all.borrow().borrow().len()
    }

    fn row_data(&self, row_index: usize) -> Option<ObservationRow> {
        let all = self.all.borrow();
        let all = all.borrow();
        all.get(row_index).map(|o| {
            let mut shown = row(o, &self.taxonomy.borrow().borrow());
            shown.unexported = self.unexported.borrow().contains(&o.observation.id);
            shown
        })
    }

    fn model_tracker(&self) -> &dyn ModelTracker {
        &self.notify
    }
}

/// The list model and the paging state.
pub(crate) struct JournalState {
    rows: Rc<JournalModel>,
    /// Pages asked for (1 after unlock or a filter change).
    pages: Cell<u32>,
    /// Bumped by each query; a reply for an older one is dropped.
    generation: Cell<u64>,
}

impl Default for JournalState {
    fn default() -> Self {
        JournalState {
            rows: Rc::new(JournalModel {
                all: RefCell::new(Rc::default()),
                unexported: RefCell::new(HashSet::new()),
                taxonomy: RefCell::new(Rc::new(RefCell::new(Taxonomy::builtin()))),
                notify: ModelNotify::default(),
            }),
            pages: Cell::new(1),
            generation: Cell::new(0),
        }
    }
}

/// The journal's filter chips, and the rows' labels, from the mission profile's taxonomy.
pub(crate) fn set_taxonomy(window: &AppWindow, app: &App, taxonomy: &Taxonomy) {
    let adapter = window.global::<JournalAdapter>();
    adapter.set_kinds(choices(&taxonomy.kinds));
    adapter.set_categories(choices(&taxonomy.categories));
    app.journal_view.rows.notify.reset();
}

pub(crate) fn choices(codes: &[truce_sync::taxonomy::Code]) -> ModelRc<Choice> {
    let items: Vec<Choice> = codes
        .iter()
        .map(|c| Choice {
            code: c.code.as_str().into(),
            label: c.label.as_str().into(),
        })
        .collect();
    ModelRc::new(VecModel::from(items))
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let adapter = window.global::<JournalAdapter>();
    *app.journal_view.rows.all.borrow_mut() = app.observations.clone();
    *app.journal_view.rows.taxonomy.borrow_mut() = app.taxonomy.clone();
    adapter.set_rows(ModelRc::from(app.journal_view.rows.clone()));
    let taxonomy = app.taxonomy.borrow();
    adapter.set_kinds(choices(&taxonomy.kinds));
    adapter.set_categories(choices(&taxonomy.categories));
    adapter.set_total(0);
    adapter.set_has_more(false);

    adapter.on_filter_changed(on_app(app, move |app| {
        app.journal_view.pages.set(1);
        if let Some(w) = app.window() {
            refresh(&w, app);
        }
    }));
    adapter.on_show_more(on_app(app, move |app| {
        app.journal_view
            .pages
            .set(app.journal_view.pages.get().saturating_add(1));
        if let Some(w) = app.window() {
            refresh(&w, app);
        }
    }));
    adapter.on_open(on_app_with(app, move |app, id: slint::SharedString| {
        detail::open(app, id.as_str());
    }));
    adapter.on_new_observation(on_app(app, entry::start));
}

pub(crate) fn row(revision: &ObservationRevision, taxonomy: &Taxonomy) -> ObservationRow {
    let o = &revision.observation;
    let label = |codes: &[truce_sync::taxonomy::Code], code: &str| {
        codes
            .iter()
            .find(|c| c.code == code)
            .map(|c| c.label.clone())
            .unwrap_or_else(|| code.to_owned())
    };
    let id = o.id.to_string();
    ObservationRow {
        short_id: format::short_id(&id).into(),
        // Callbacks pass the id with its device: two devices may have used the same id.
        id: revision.key().to_string().into(),
        full_id: id.into(),
        kind: o.kind.as_str().into(),
        kind_label: label(&taxonomy.kinds, &o.kind).into(),
        category: o.category.as_str().into(),
        category_label: label(&taxonomy.categories, &o.category).into(),
        time: format::time(&o.observed_at).into(),
        severity: o.severity.map(i32::from).unwrap_or(0),
        excerpt: format::excerpt(&o.narrative, 90).into(),
        place: o.place.clone().unwrap_or_default().into(),
        revision: revision.revision as i32,
        unexported: false,
    }
}

/// The local day `YYYY-MM-DD` as a half-open range of Unix milliseconds; `None` when the text
/// is not a date.
pub(crate) fn day_range(day: &str) -> Option<(i64, i64)> {
    let date = NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
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
pub(crate) fn filter_for(
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

/// One page load: the rows, whether more match, the unexported ones, the journal's total.
struct Loaded {
    rows: Vec<ObservationRevision>,
    more: bool,
    unexported: HashSet<Uuid>,
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
        unexported: journal.unexported_among(&ids)?,
        rows,
        more,
        total: journal.count()?,
    })
}

/// Loads the rows that pass the filters, on the journal thread, and shows them.
pub(crate) fn refresh(window: &AppWindow, app: &Rc<App>) {
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
        app.journal_view.pages.get(),
    ) else {
        adapter.set_day_error(true);
        return;
    };
    adapter.set_day_error(false);
    if !app.unlocked.get() {
        return;
    }
    let generation = app.journal_view.generation.get() + 1;
    app.journal_view.generation.set(generation);
    app.submit_quiet(Box::new(move |journal| {
        let result = journal
            .as_ref()
            .map(|j| load(j, &filter))
            .unwrap_or_else(|| Err(JournalError::Locked));
        Box::new(move |app: &Rc<App>| {
            if app.journal_view.generation.get() != generation || !app.unlocked.get() {
                return;
            }
            let Some(w) = app.window() else { return };
            match result {
                Ok(loaded) => show(&w, app, loaded),
                Err(e) => tracing::warn!("cannot load the journal list: {e}"),
            }
        })
    }));
}

fn show(window: &AppWindow, app: &Rc<App>, loaded: Loaded) {
    *app.observations.borrow_mut() = loaded.rows;
    *app.journal_view.rows.unexported.borrow_mut() = loaded.unexported;
    app.journal_view.rows.notify.reset();
    let adapter = window.global::<JournalAdapter>();
    adapter.set_total(loaded.total.min(i32::MAX as u64) as i32);
    adapter.set_has_more(loaded.more);
    super::settings::refresh_count(window, app);
}

/// Forgets every row and filter (on lock).
pub(crate) fn clear(window: &AppWindow, app: &App) {
    app.journal_view
        .generation
        .set(app.journal_view.generation.get() + 1);
    app.journal_view.pages.set(1);
    app.journal_view.rows.unexported.borrow_mut().clear();
    app.journal_view.rows.notify.reset();
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
