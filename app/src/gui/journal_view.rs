//! Adapter for `JournalAdapter`: the list, newest first, filtered by kind and searched in
//! narratives and places, in memory over `Journal::list`. The list is a live `slint::Model`:
//! filtering only recomputes indices, and a row's texts are made when the `ListView` shows it.

use std::cell::RefCell;
use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelNotify, ModelRc, ModelTracker, SharedString, VecModel};
use truce_sync::{ObservationRevision, Taxonomy};

use super::ui::{AppWindow, Choice, JournalAdapter, ObservationRow};
use super::{detail, entry, format, App};

/// The rows the `ListView` shows: indices into the app's decrypted list, made into
/// `ObservationRow`s only on demand (the `ListView` asks for the visible ones).
pub(crate) struct JournalModel {
    all: RefCell<Rc<RefCell<Vec<ObservationRevision>>>>,
    visible: RefCell<Vec<usize>>,
    taxonomy: Taxonomy,
    notify: ModelNotify,
}

impl Model for JournalModel {
    type Data = ObservationRow;

    fn row_count(&self) -> usize {
        self.visible.borrow().len()
    }

    fn row_data(&self, row_index: usize) -> Option<ObservationRow> {
        let index = *self.visible.borrow().get(row_index)?;
        let all = self.all.borrow();
        let all = all.borrow();
        all.get(index).map(|o| row(o, &self.taxonomy))
    }

    fn model_tracker(&self) -> &dyn ModelTracker {
        &self.notify
    }
}

/// The list model the `ListView` shows.
pub(crate) struct JournalState {
    rows: Rc<JournalModel>,
}

impl Default for JournalState {
    fn default() -> Self {
        JournalState {
            rows: Rc::new(JournalModel {
                all: RefCell::new(Rc::default()),
                visible: RefCell::new(Vec::new()),
                taxonomy: Taxonomy::builtin(),
                notify: ModelNotify::default(),
            }),
        }
    }
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
    adapter.set_rows(ModelRc::from(app.journal_view.rows.clone()));
    adapter.set_kinds(choices(&Taxonomy::builtin().kinds));
    adapter.set_total(0);

    let weak = Rc::downgrade(app);
    adapter.on_filter_changed(move || {
        if let Some(app) = weak.upgrade() {
            if let Some(w) = app.window() {
                refresh(&w, &app);
            }
        }
    });
    let weak = Rc::downgrade(app);
    adapter.on_open(move |id| {
        if let Some(app) = weak.upgrade() {
            detail::open(&app, id.as_str());
        }
    });
    let weak = Rc::downgrade(app);
    adapter.on_new_observation(move || {
        if let Some(app) = weak.upgrade() {
            entry::start(&app);
        }
    });
}

/// Whether `observation` passes the kind filter and the search text (case-insensitive).
pub(crate) fn matches(observation: &ObservationRevision, kind: &str, search: &str) -> bool {
    let o = &observation.observation;
    if !kind.is_empty() && o.kind != kind {
        return false;
    }
    let search = search.trim().to_lowercase();
    if search.is_empty() {
        return true;
    }
    o.narrative.to_lowercase().contains(&search)
        || o.place
            .as_deref()
            .is_some_and(|p| p.to_lowercase().contains(&search))
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
        id: id.into(),
        kind: o.kind.as_str().into(),
        kind_label: label(&taxonomy.kinds, &o.kind).into(),
        category: o.category.as_str().into(),
        category_label: label(&taxonomy.categories, &o.category).into(),
        time: format::time(&o.observed_at).into(),
        severity: o.severity.map(i32::from).unwrap_or(0),
        excerpt: format::excerpt(&o.narrative, 90).into(),
        place: o.place.clone().unwrap_or_default().into(),
        revision: revision.revision as i32,
    }
}

/// Recomputes which observations pass the filters, and tells the `ListView`.
pub(crate) fn refresh(window: &AppWindow, app: &Rc<App>) {
    let adapter = window.global::<JournalAdapter>();
    let kind: SharedString = adapter.get_kind_filter();
    let search: SharedString = adapter.get_search();
    let total = {
        let observations = app.observations.borrow();
        *app.journal_view.rows.visible.borrow_mut() = observations
            .iter()
            .enumerate()
            .filter(|(_, o)| matches(o, &kind, &search))
            .map(|(i, _)| i)
            .collect();
        observations.len()
    };
    app.journal_view.rows.notify.reset();
    adapter.set_total(total as i32);
}

/// Forgets every row and filter (on lock).
pub(crate) fn clear(window: &AppWindow, app: &App) {
    app.journal_view.rows.visible.borrow_mut().clear();
    app.journal_view.rows.notify.reset();
    let adapter = window.global::<JournalAdapter>();
    adapter.set_total(0);
    adapter.set_search("".into());
    adapter.set_kind_filter("".into());
    adapter.set_selected_id("".into());
}
