//! Adapter for `EntryAdapter`: the new-observation form becomes a schema v1 JSON object for
//! `Journal::record`; its `SchemaError` comes back next to the form, naming the field.
//!
//! Drafts: an unfinished form is kept inside the encrypted journal (`Journal::save_draft`), as
//! the raw texts typed, so that even an invalid number survives. [`flush_draft`] saves it from
//! the journal thread when the form changed: every few seconds (a timer), on leaving the form,
//! before locking and when the window closes. It comes back when the form opens after an
//! unlock, and is discarded once the observation is saved.
//!
//! "Use GPS" asks [`truce_core::location`] for a fix off the UI thread (on the journal thread, which
//! holds no lock on the form) and fills latitude, longitude, accuracy and `location_source`.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::{Map, Value};
use slint::{ComponentHandle, Model, ModelRc, VecModel};
use truce_sync::observation::Method;

use truce_core::journal::{Journal, JournalError};

use crate::format;
use crate::rows::choices;
use crate::state::{on_app, App, Event, Vocabulary};
use crate::ui::{AppAdapter, AppWindow, Choice, EntryAdapter, PickRow, Screen};

/// The draft as last saved in the journal (decrypted, on the UI thread; forgotten on lock).
type Kept = Rc<RefCell<Option<Draft>>>;

/// A form value that cannot become JSON: the schema v1 field and what to do.
#[derive(Debug, PartialEq)]
pub(crate) struct FormError {
    pub field: &'static str,
    pub message: String,
}

/// The form, as plain strings (so it can be tested without a window).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Form {
    pub kind: String,
    pub category: String,
    pub method: String,
    pub observed_at: String,
    pub lat: String,
    pub lon: String,
    pub place: String,
    pub count: String,
    pub count_approx: bool,
    pub severity: i32,
    pub narrative: String,
    /// 16-point compass index (0 = N, 4 = E ...), -1 when not given.
    pub direction: i32,
    pub distance_min: String,
    pub distance_max: String,
    pub weapon: String,
    pub initiator: String,
    pub target: String,
    pub killed: String,
    pub injured: String,
    pub accuracy: String,
    /// `gps`, `map`, `described` or "".
    pub location_source: String,
}

impl Default for Form {
    fn default() -> Self {
        Form {
            kind: String::new(),
            category: String::new(),
            method: String::new(),
            observed_at: String::new(),
            lat: String::new(),
            lon: String::new(),
            place: String::new(),
            count: String::new(),
            count_approx: false,
            severity: 0,
            narrative: String::new(),
            direction: -1,
            distance_min: String::new(),
            distance_max: String::new(),
            weapon: String::new(),
            initiator: String::new(),
            target: String::new(),
            killed: String::new(),
            injured: String::new(),
            accuracy: String::new(),
            location_source: String::new(),
        }
    }
}

/// The bearing in whole degrees of a 16-point compass index (0 = N, 1 = NNE ... 15 = NNW).
pub(crate) fn compass_degrees(point: i32) -> Option<u16> {
    (0..16)
        .contains(&point)
        .then(|| ((f64::from(point) * 22.5).round() as u16) % 360)
}

/// The nearest 16-point compass index of a bearing in degrees.
pub(crate) fn compass_point(degrees: f64) -> i32 {
    ((degrees.rem_euclid(360.0) / 22.5).round() as i32) % 16
}

/// A whole number of metres or people, or nothing when empty.
fn whole(field: &'static str, text: &str, example: &str) -> Result<Option<u32>, FormError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<u32>().map(Some).map_err(|_| FormError {
        field,
        message: format!("“{text}” is not a whole number; write e.g. {example}"),
    })
}

fn number(field: &'static str, text: &str) -> Result<Option<f64>, FormError> {
    let text = text.trim().replace(',', ".");
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<f64>().map(Some).map_err(|_| FormError {
        field,
        message: format!("“{text}” is not a number in decimal degrees, e.g. 48.0159"),
    })
}

impl Form {
    /// The JSON object `Journal::record` takes. Empty fields are left out.
    pub(crate) fn to_json(&self) -> Result<Map<String, Value>, FormError> {
        let mut map = Map::new();
        for (key, value) in [
            ("kind", &self.kind),
            ("category", &self.category),
            ("method", &self.method),
        ] {
            if !value.is_empty() {
                map.insert(key.into(), Value::String(value.clone()));
            }
        }
        if !self.observed_at.trim().is_empty() {
            let t = format::parse_form_time(&self.observed_at).ok_or_else(|| FormError {
                field: "observed_at",
                message: "write the time as YYYY-MM-DD HH:MM, e.g. 2026-11-24 05:30".into(),
            })?;
            map.insert("observed_at".into(), Value::String(t.to_rfc3339()));
        }
        if let Some(lat) = number("lat", &self.lat)? {
            map.insert("lat".into(), lat.into());
        }
        if let Some(lon) = number("lon", &self.lon)? {
            map.insert("lon".into(), lon.into());
        }
        if !self.place.trim().is_empty() {
            map.insert("place".into(), Value::String(self.place.trim().to_owned()));
        }
        let count = self.count.trim();
        if !count.is_empty() {
            let n: u32 = count.parse().map_err(|_| FormError {
                field: "event_count",
                message: format!("“{count}” is not a whole number; write e.g. 40, and tap Approx. if it is an estimate"),
            })?;
            map.insert("event_count".into(), n.into());
            map.insert("count_approx".into(), self.count_approx.into());
        }
        if self.severity > 0 {
            map.insert("severity".into(), self.severity.into());
        }
        if !self.narrative.trim().is_empty() {
            map.insert("narrative".into(), Value::String(self.narrative.clone()));
        }
        if let Some(deg) = compass_degrees(self.direction) {
            map.insert("direction_deg".into(), deg.into());
        }
        for (key, text, example) in [
            ("distance_min_m", &self.distance_min, "1500"),
            ("distance_max_m", &self.distance_max, "3000"),
            ("killed", &self.killed, "0 or 2"),
            ("injured", &self.injured, "0 or 3"),
        ] {
            if let Some(n) = whole(key, text, example)? {
                map.insert(key.into(), n.into());
            }
        }
        for (key, text) in [
            ("weapon", &self.weapon),
            ("initiator", &self.initiator),
            ("target", &self.target),
            ("location_source", &self.location_source),
        ] {
            if !text.trim().is_empty() {
                map.insert(key.into(), Value::String(text.trim().to_owned()));
            }
        }
        let accuracy = self.accuracy.trim().replace(',', ".");
        if !accuracy.is_empty() {
            let m: f64 = accuracy.parse().map_err(|_| FormError {
                field: "accuracy_m",
                message: format!("“{accuracy}” is not a number of metres, e.g. 25"),
            })?;
            map.insert("accuracy_m".into(), m.into());
        }
        Ok(map)
    }

    /// Whether any field under "More details" holds something.
    pub(crate) fn has_details(&self) -> bool {
        let blank = Form::default();
        self.direction != blank.direction
            || [
                &self.distance_min,
                &self.distance_max,
                &self.weapon,
                &self.initiator,
                &self.target,
                &self.killed,
                &self.injured,
                &self.accuracy,
                &self.location_source,
            ]
            .iter()
            .any(|t| !t.is_empty())
    }

    /// Nothing chosen or typed yet (the prefilled time does not count).
    pub(crate) fn is_blank(&self) -> bool {
        Form {
            observed_at: String::new(),
            ..self.clone()
        } == Form::default()
    }

    /// The draft kept in the journal: schema v1 names, but the raw texts typed (not validated,
    /// so "north" in `lat` survives until it is corrected).
    pub(crate) fn to_draft(&self) -> Map<String, Value> {
        let mut map = Map::new();
        for (key, value) in [
            ("kind", &self.kind),
            ("category", &self.category),
            ("method", &self.method),
            ("observed_at", &self.observed_at),
            ("lat", &self.lat),
            ("lon", &self.lon),
            ("place", &self.place),
            ("event_count", &self.count),
            ("narrative", &self.narrative),
            ("distance_min_m", &self.distance_min),
            ("distance_max_m", &self.distance_max),
            ("weapon", &self.weapon),
            ("initiator", &self.initiator),
            ("target", &self.target),
            ("killed", &self.killed),
            ("injured", &self.injured),
            ("accuracy_m", &self.accuracy),
            ("location_source", &self.location_source),
        ] {
            if !value.is_empty() {
                map.insert(key.into(), Value::String(value.clone()));
            }
        }
        if let Some(deg) = compass_degrees(self.direction) {
            map.insert("direction_deg".into(), deg.into());
        }
        if self.count_approx {
            map.insert("count_approx".into(), true.into());
        }
        if self.severity > 0 {
            map.insert("severity".into(), self.severity.into());
        }
        map
    }

    /// The form back from a draft; unknown or mistyped members are ignored.
    pub(crate) fn from_draft(map: &Map<String, Value>) -> Form {
        let text = |key: &str| match map.get(key) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        Form {
            kind: text("kind"),
            category: text("category"),
            method: text("method"),
            observed_at: text("observed_at"),
            lat: text("lat"),
            lon: text("lon"),
            place: text("place"),
            count: text("event_count"),
            count_approx: map.get("count_approx").and_then(Value::as_bool) == Some(true),
            severity: map
                .get("severity")
                .and_then(Value::as_i64)
                .filter(|s| (1..=5).contains(s))
                .unwrap_or(0) as i32,
            narrative: text("narrative"),
            direction: map
                .get("direction_deg")
                .and_then(Value::as_f64)
                .map_or(-1, compass_point),
            distance_min: text("distance_min_m"),
            distance_max: text("distance_max_m"),
            weapon: text("weapon"),
            initiator: text("initiator"),
            target: text("target"),
            killed: text("killed"),
            injured: text("injured"),
            accuracy: text("accuracy_m"),
            location_source: text("location_source"),
        }
    }

    fn write(&self, adapter: &EntryAdapter) {
        adapter.set_kind(self.kind.as_str().into());
        adapter.set_category(self.category.as_str().into());
        adapter.set_method(self.method.as_str().into());
        adapter.set_observed_at(self.observed_at.as_str().into());
        adapter.set_lat(self.lat.as_str().into());
        adapter.set_lon(self.lon.as_str().into());
        adapter.set_place(self.place.as_str().into());
        adapter.set_count(self.count.as_str().into());
        adapter.set_count_approx(self.count_approx);
        adapter.set_severity(self.severity);
        adapter.set_narrative(self.narrative.as_str().into());
        adapter.set_direction(self.direction);
        adapter.set_distance_min(self.distance_min.as_str().into());
        adapter.set_distance_max(self.distance_max.as_str().into());
        adapter.set_weapon(self.weapon.as_str().into());
        adapter.set_initiator(self.initiator.as_str().into());
        adapter.set_target(self.target.as_str().into());
        adapter.set_killed(self.killed.as_str().into());
        adapter.set_injured(self.injured.as_str().into());
        adapter.set_accuracy(self.accuracy.as_str().into());
        adapter.set_location_source(self.location_source.as_str().into());
        if self.has_details() {
            adapter.set_more_details(true);
        }
    }

    fn read(adapter: &EntryAdapter) -> Form {
        Form {
            kind: adapter.get_kind().into(),
            category: adapter.get_category().into(),
            method: adapter.get_method().into(),
            observed_at: adapter.get_observed_at().into(),
            lat: adapter.get_lat().into(),
            lon: adapter.get_lon().into(),
            place: adapter.get_place().into(),
            count: adapter.get_count().into(),
            count_approx: adapter.get_count_approx(),
            severity: adapter.get_severity(),
            narrative: adapter.get_narrative().into(),
            direction: adapter.get_direction(),
            distance_min: adapter.get_distance_min().into(),
            distance_max: adapter.get_distance_max().into(),
            weapon: adapter.get_weapon().into(),
            initiator: adapter.get_initiator().into(),
            target: adapter.get_target().into(),
            killed: adapter.get_killed().into(),
            injured: adapter.get_injured().into(),
            accuracy: adapter.get_accuracy().into(),
            location_source: adapter.get_location_source().into(),
        }
    }
}

/// The kinds, categories and parties the form offers: the mission profile's. The parties
/// are chips for initiator and target; with none, both are typed as free text.
fn set_vocabulary(window: &AppWindow, vocabulary: &Vocabulary) {
    let adapter = window.global::<EntryAdapter>();
    adapter.set_kinds(choices(&vocabulary.taxonomy.kinds));
    adapter.set_categories(choices(&vocabulary.taxonomy.categories));
    adapter.set_parties(choices(&vocabulary.parties));
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let adapter = window.global::<EntryAdapter>();
    set_vocabulary(window, &app.vocabulary());
    let methods: Vec<Choice> = Method::ALL
        .iter()
        .map(|m| Choice {
            code: m.code().into(),
            label: m.code().replace('_', " ").into(),
        })
        .collect();
    adapter.set_methods(ModelRc::new(VecModel::from(methods)));
    clear(window);
    let kept: Kept = Rc::default();

    let weak = Rc::downgrade(app);
    adapter.on_set_now(move || {
        if let Some(w) = weak.upgrade().and_then(|a| a.window()) {
            w.global::<EntryAdapter>()
                .set_observed_at(format::now_for_form().into());
        }
    });
    adapter.on_use_gps(on_app(app, use_gps));
    adapter.on_list_folder(on_app(app, list_folder));
    adapter.on_choose_files(on_app(app, choose_files));
    adapter.on_from_camera_card(on_app(app, from_camera_card));
    let weak = Rc::downgrade(app);
    adapter.on_toggle_file(move |index| {
        let Some(w) = weak.upgrade().and_then(|a| a.window()) else {
            return;
        };
        let files = w.global::<EntryAdapter>().get_attach_files();
        let Ok(index) = usize::try_from(index) else {
            return;
        };
        if let Some(mut row) = files.row_data(index) {
            row.selected = !row.selected;
            files.set_row_data(index, row);
        }
    });
    adapter.on_cancel(on_app(app, move |app| {
        app.go(Screen::Journal);
    }));
    let k = kept.clone();
    adapter.on_save(on_app(app, move |app| save(app, &k)));
    let k = kept.clone();
    adapter.on_discard_draft(on_app(app, move |app| discard_draft(app, &k)));

    app.subscribe(move |app, event| match event {
        Event::Flush => flush_draft(app, &kept),
        Event::Unlocked(session) => {
            *kept.borrow_mut() = session
                .draft
                .as_ref()
                .map(|(map, at)| Draft::from_journal(map, at));
        }
        Event::Locked => {
            *kept.borrow_mut() = None;
            if let Some(w) = app.window() {
                clear(&w);
            }
        }
        Event::ProfileChanged => {
            if let Some(w) = app.window() {
                set_vocabulary(&w, &app.vocabulary());
            }
        }
        Event::Shown {
            from,
            to: Screen::Entry,
        } if *from != Screen::Entry => start(app, &kept),
        _ => {}
    });
}

/// The form opens (it was not on screen): the draft when there is one, else an empty form
/// with the time set to now.
fn start(app: &Rc<App>, kept: &Kept) {
    let Some(w) = app.window() else { return };
    clear(&w);
    let adapter = w.global::<EntryAdapter>();
    match &*kept.borrow() {
        Some(draft) => {
            draft.form.write(&adapter);
            adapter.set_draft_restored_at(draft.saved_at.as_str().into());
        }
        None => adapter.set_observed_at(format::now_for_form().into()),
    }
}

/// The draft as last saved in the journal (decrypted, on the UI thread; forgotten on lock).
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub form: Form,
    /// When it was saved, `HH:MM` in local time.
    pub saved_at: String,
}

impl Draft {
    /// The draft `Journal::draft` returned: its members and its RFC 3339 saving time.
    pub(crate) fn from_journal(map: &Map<String, Value>, saved_at: &str) -> Draft {
        Draft {
            form: Form::from_draft(map),
            saved_at: chrono::DateTime::parse_from_rfc3339(saved_at)
                .map(|t| t.with_timezone(&chrono::Local).format("%H:%M").to_string())
                .unwrap_or_default(),
        }
    }
}

/// Saves the form as the draft in the journal when it changed since the last save (or discards
/// the draft when the form was emptied). Only while the form is on screen: elsewhere the form
/// is not what the person left (it is empty after an unlock). The journal thread writes.
fn flush_draft(app: &Rc<App>, kept: &Kept) {
    if !app.is_unlocked() {
        return;
    }
    let Some(w) = app.window() else { return };
    if w.global::<AppAdapter>().get_screen() != Screen::Entry {
        return;
    }
    let form = Form::read(&w.global::<EntryAdapter>());
    let mut draft = kept.borrow_mut();
    if form.is_blank() {
        if draft.take().is_some() {
            app.submit_quiet(Box::new(|journal| {
                if let Some(Err(e)) = journal.as_ref().map(Journal::discard_draft) {
                    tracing::warn!("cannot discard the draft: {e}");
                }
                Box::new(|_| {})
            }));
        }
        return;
    }
    if draft.as_ref().is_some_and(|d| d.form == form) {
        return;
    }
    let body = form.to_draft();
    *draft = Some(Draft {
        form,
        saved_at: chrono::Local::now().format("%H:%M").to_string(),
    });
    app.submit_quiet(Box::new(move |journal| {
        if let Some(Err(e)) = journal.as_ref().map(|j| j.save_draft(&body)) {
            tracing::warn!("cannot save the draft: {e}");
        }
        Box::new(|_| {})
    }));
}

/// "Discard": empties the form and deletes the draft from the journal.
fn discard_draft(app: &Rc<App>, kept: &Kept) {
    let Some(w) = app.window() else { return };
    clear(&w);
    w.global::<EntryAdapter>()
        .set_observed_at(format::now_for_form().into());
    // The form is blank now, so this discards the saved draft.
    flush_draft(app, kept);
}

/// Fields folded under "More details": an error there opens it.
const DETAIL_FIELDS: [&str; 10] = [
    "direction_deg",
    "distance_min_m",
    "distance_max_m",
    "weapon",
    "initiator",
    "target",
    "killed",
    "injured",
    "accuracy_m",
    "location_source",
];

fn show_error(w: &AppWindow, field: &str, message: &str) {
    let adapter = w.global::<EntryAdapter>();
    adapter.set_error_field(field.into());
    adapter.set_error_message(message.into());
    if DETAIL_FIELDS.contains(&field) {
        adapter.set_more_details(true);
    }
}

/// "Use GPS": asks the location service for a fix on the journal thread (it may take seconds),
/// then fills the position, its accuracy and `location_source`. Manual entry keeps working.
fn use_gps(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<EntryAdapter>();
    if adapter.get_locating() {
        return;
    }
    adapter.set_locating(true);
    adapter.set_location_message("".into());
    app.submit_quiet(Box::new(|_journal| {
        let result = truce_core::location::system().current();
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<EntryAdapter>();
            adapter.set_locating(false);
            if !app.is_unlocked() {
                return;
            }
            match result {
                Ok(fix) => {
                    adapter.set_lat(format!("{:.6}", fix.lat).into());
                    adapter.set_lon(format!("{:.6}", fix.lon).into());
                    adapter.set_accuracy(
                        fix.accuracy_m
                            .map(|a| format!("{}", a.round() as i64))
                            .unwrap_or_default()
                            .into(),
                    );
                    adapter.set_location_source("gps".into());
                }
                // The markup translates the codes; a failure carries the tool's own words.
                Err(truce_core::location::LocationError::NotAvailable) => {
                    adapter.set_location_message("unavailable".into())
                }
                Err(truce_core::location::LocationError::NoFix(_)) => {
                    adapter.set_location_message("no-fix".into())
                }
                Err(e) => adapter.set_location_message(e.to_string().into()),
            }
        })
    }));
}

/// Most files the in-app picker lists from one folder (the newest first).
const PICK_MAX: usize = 200;

/// The in-app picker: the photos, recordings, videos and documents in the folder on screen,
/// newest first, each with its type (from its content), size and time. Listed on the journal
/// thread, as it reads the start of each file.
fn list_folder(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let folder = std::path::PathBuf::from(w.global::<EntryAdapter>().get_attach_folder().trim());
    app.submit(Box::new(move |_| {
        let listed = pickable_files(&folder);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<EntryAdapter>();
            match listed {
                Ok(files) => {
                    let rows: Vec<PickRow> = files
                        .into_iter()
                        .map(|f| PickRow {
                            path: f.path.into(),
                            name: f.name.into(),
                            about: f.about.into(),
                            ..Default::default()
                        })
                        .collect();
                    adapter.set_attach_message(if rows.is_empty() {
                        format!("No photo, recording, video or PDF in {}", folder.display()).into()
                    } else {
                        "".into()
                    });
                    adapter.set_attach_files(ModelRc::new(VecModel::from(rows)));
                }
                Err(e) => {
                    adapter.set_attach_message(e.into());
                    adapter.set_attach_files(ModelRc::default());
                }
            }
        })
    }));
}

/// "Choose files…": the desktop's file chooser (XDG portal); the files picked join the list,
/// ticked. Without a portal, the form says to pick them from a folder with the in-app picker.
fn choose_files(app: &Rc<App>) {
    use crate::files::{Choose, Chosen};
    app.choose(Choose::Attachments, "Attach evidence", |app, chosen| {
        let Some(w) = app.window() else { return };
        let adapter = w.global::<EntryAdapter>();
        match chosen {
            Ok(Chosen::Paths(paths)) => {
                let mut rows: Vec<PickRow> = adapter.get_attach_files().iter().collect();
                let mut refused = Vec::new();
                for path in paths {
                    match pickable(&path) {
                        Some(p) if !rows.iter().any(|r| r.path.as_str() == p.path) => {
                            rows.push(PickRow {
                                path: p.path.into(),
                                name: p.name.into(),
                                about: p.about.into(),
                                selected: true,
                                ..Default::default()
                            })
                        }
                        Some(_) => {}
                        None => refused.push(path.display().to_string()),
                    }
                }
                adapter.set_attach_message(if refused.is_empty() {
                    "".into()
                } else {
                    format!(
                        "Not a photo, recording, video or PDF Truce accepts: {}",
                        refused.join(", ")
                    )
                    .into()
                });
                adapter.set_attach_files(ModelRc::new(VecModel::from(rows)));
            }
            Ok(Chosen::Cancelled) => {}
            Err(e) => adapter.set_attach_message(
                format!(
                    "The system's file chooser is not available here ({e}): type a folder below and pick the files from it."
                )
                .into(),
            ),
        }
    });
}

/// "From camera card": the photos on a mounted card taken within ±30 minutes of the form's
/// time (now, when it has none), found and thumbnailed on the worker thread, listed to tick.
fn from_camera_card(app: &Rc<App>) {
    use truce_core::evidence::camera_card;
    let Some(w) = app.window() else { return };
    let adapter = w.global::<EntryAdapter>();
    let around = Form::read(&adapter)
        .to_json()
        .ok()
        .and_then(|m| {
            m.get("observed_at")
                .and_then(Value::as_str)
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        })
        .map_or_else(chrono::Utc::now, |t| t.with_timezone(&chrono::Utc));
    let roots = app.media_roots.borrow().clone();
    adapter.set_attach_message("Looking for a camera card…".into());
    app.submit(Box::new(move |journal| {
        let cards = camera_card::camera_card_folders(&roots);
        let found = match journal.as_ref() {
            Some(j) if !cards.is_empty() => Some(j.camera_card_photos(&roots, around)),
            _ => None,
        };
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<EntryAdapter>();
            let when = chrono::DateTime::<chrono::Local>::from(around).format("%H:%M");
            let (rows, message) = match found {
                None => (
                    Vec::new(),
                    "No camera card found: insert the card (its photos are in a DCIM folder) and try again, or type its folder above.".to_owned(),
                ),
                Some(Err(e)) => (Vec::new(), e.to_string()),
                Some(Ok(photos)) if photos.is_empty() => (
                    Vec::new(),
                    format!(
                        "No photo on {} was taken within {} minutes of {when}.",
                        cards.iter().map(|c| c.display().to_string()).collect::<Vec<_>>().join(", "),
                        camera_card::WINDOW_MINUTES
                    ),
                ),
                Some(Ok(photos)) => {
                    let rows = photos
                        .iter()
                        .map(|p| {
                            let taken = chrono::DateTime::<chrono::Local>::from(p.taken_at)
                                .format("%H:%M:%S");
                            let source = if p.time_from_camera { "camera time" } else { "file time" };
                            PickRow {
                                path: p.path.display().to_string().into(),
                                name: p.name.as_str().into(),
                                about: format!(
                                    "taken {taken} ({source}), {}",
                                    truce_core::evidence::size_text(p.size)
                                )
                                .into(),
                                selected: false,
                                has_thumbnail: p.thumbnail.is_some(),
                                thumbnail: p
                                    .thumbnail
                                    .as_ref()
                                    .map(|t| {
                                        slint::Image::from_rgba8(
                                            slint::SharedPixelBuffer::clone_from_slice(
                                                &t.rgba, t.width, t.height,
                                            ),
                                        )
                                    })
                                    .unwrap_or_default(),
                            }
                        })
                        .collect();
                    (rows, String::new())
                }
            };
            adapter.set_attach_message(message.into());
            adapter.set_attach_files(ModelRc::new(VecModel::from(rows)));
        })
    }));
}

/// The files of `folder` Truce can attach, newest first (at most [`PICK_MAX`]).
/// A file the in-app picker lists (plain data: it is made on the worker thread).
struct Pickable {
    path: String,
    name: String,
    about: String,
}

fn pickable_files(folder: &std::path::Path) -> Result<Vec<Pickable>, String> {
    let entries =
        std::fs::read_dir(folder).map_err(|e| format!("Cannot list {}: {e}", folder.display()))?;
    let mut found: Vec<(std::time::SystemTime, Pickable)> = Vec::new();
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let modified = entry
            .metadata()
            .and_then(|m| m.modified())
            .unwrap_or(std::time::UNIX_EPOCH);
        if let Some(file) = pickable(&entry.path()) {
            found.push((modified, file));
        }
    }
    found.sort_by_key(|(modified, _)| std::cmp::Reverse(*modified));
    Ok(found
        .into_iter()
        .take(PICK_MAX)
        .map(|(_, row)| row)
        .collect())
}

/// One file as the picker lists it, if it is a regular file of a type Truce accepts (by its
/// content): its name, type, size and when it last changed.
fn pickable(path: &std::path::Path) -> Option<Pickable> {
    use std::io::Read;
    let meta = std::fs::metadata(path).ok().filter(|m| m.is_file())?;
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(truce_core::evidence::media::SNIFF_BYTES as u64)
                .read_to_end(&mut head)
        })
        .ok()?;
    let media_type = truce_core::evidence::media::media_type(&head)?;
    let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
    let when = chrono::DateTime::<chrono::Local>::from(modified)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let size = truce_core::evidence::size_text(meta.len());
    Some(Pickable {
        path: path.display().to_string(),
        name: path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
        about: format!("{media_type}, {size}, {when}"),
    })
}

fn save(app: &Rc<App>, kept: &Kept) {
    let Some(w) = app.window() else { return };
    let attach: Vec<std::path::PathBuf> = w
        .global::<EntryAdapter>()
        .get_attach_files()
        .iter()
        .filter(|f| f.selected)
        .map(|f| std::path::PathBuf::from(f.path.as_str()))
        .collect();
    let form = Form::read(&w.global::<EntryAdapter>());
    let input = match form.to_json() {
        Ok(input) => input,
        Err(e) => return show_error(&w, e.field, &e.message),
    };
    show_error(&w, "", "");
    // The journal thread keeps the form as the draft if the record is refused, and discards the
    // draft once it is saved; meanwhile the draft timer has nothing to add.
    let body = form.to_draft();
    *kept.borrow_mut() = Some(Draft {
        form,
        saved_at: chrono::Local::now().format("%H:%M").to_string(),
    });
    let kept = kept.clone();
    app.submit_then(
        move |journal| match journal.as_mut() {
            None => Err(None),
            Some(j) => {
                let result = if attach.is_empty() {
                    j.record(input)
                } else {
                    j.record_with_attachments(input, &attach)
                }
                .map_err(Some);
                let kept = match result {
                    Ok(_) => j.discard_draft(),
                    Err(_) => j.save_draft(&body),
                };
                if let Err(e) = kept {
                    tracing::warn!("cannot update the draft: {e}");
                }
                result
            }
        },
        move |app, result| {
            let Some(w) = app.window() else { return };
            match result {
                Ok(saved) => {
                    *kept.borrow_mut() = None;
                    clear(&w);
                    app.saved(&saved);
                    app.go(Screen::Journal);
                }
                Err(None) => {}
                Err(Some(JournalError::Invalid(e))) => {
                    let message = match &e {
                        truce_sync::SchemaError::Field { message, .. } => message.clone(),
                        other => other.to_string(),
                    };
                    show_error(&w, e.field_name().unwrap_or(""), &message);
                }
                Err(Some(other)) => show_error(&w, "", &other.to_string()),
            }
        },
    );
}

/// Empties the form (after a save, and on lock).
fn clear(window: &AppWindow) {
    let adapter = window.global::<EntryAdapter>();
    for set in [
        EntryAdapter::set_kind,
        EntryAdapter::set_category,
        EntryAdapter::set_method,
        EntryAdapter::set_observed_at,
        EntryAdapter::set_lat,
        EntryAdapter::set_lon,
        EntryAdapter::set_place,
        EntryAdapter::set_count,
        EntryAdapter::set_narrative,
        EntryAdapter::set_error_field,
        EntryAdapter::set_error_message,
        EntryAdapter::set_draft_restored_at,
        EntryAdapter::set_distance_min,
        EntryAdapter::set_distance_max,
        EntryAdapter::set_weapon,
        EntryAdapter::set_initiator,
        EntryAdapter::set_target,
        EntryAdapter::set_killed,
        EntryAdapter::set_injured,
        EntryAdapter::set_accuracy,
        EntryAdapter::set_location_source,
        EntryAdapter::set_location_message,
    ] {
        set(&adapter, "".into());
    }
    adapter.set_count_approx(false);
    adapter.set_severity(0);
    adapter.set_direction(-1);
    adapter.set_more_details(false);
    adapter.set_locating(false);
    // The folder stays for the next observation; its list and ticks go.
    adapter.set_attach_files(ModelRc::default());
    adapter.set_attach_message("".into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use truce_sync::Taxonomy;

    #[test]
    fn a_minimal_form_is_three_codes_and_a_time() {
        let form = Form {
            kind: "violation".into(),
            category: "shelling".into(),
            method: "heard".into(),
            observed_at: "2026-11-24T05:30:00+03:00".into(),
            ..Form::default()
        };
        let json = form.to_json().expect("valid");
        assert_eq!(json.len(), 4);
        assert_eq!(json["observed_at"], "2026-11-24T05:30:00+03:00");
    }

    #[test]
    fn a_draft_keeps_the_raw_texts() {
        let form = Form {
            kind: "violation".into(),
            observed_at: "2026-11-24 05:30".into(),
            lat: "north".into(),
            count: "40".into(),
            count_approx: true,
            severity: 3,
            narrative: "Half written".into(),
            ..Form::default()
        };
        assert!(!form.is_blank());
        assert_eq!(Form::from_draft(&form.to_draft()), form);
        let only_time = Form {
            observed_at: "2026-11-24 05:30".into(),
            ..Form::default()
        };
        assert!(only_time.is_blank());
    }

    #[test]
    fn the_compass_has_sixteen_points() {
        assert_eq!(compass_degrees(0), Some(0));
        assert_eq!(compass_degrees(1), Some(23));
        assert_eq!(compass_degrees(4), Some(90));
        assert_eq!(compass_degrees(15), Some(338));
        assert_eq!(compass_degrees(-1), None);
        assert_eq!(compass_degrees(16), None);
        for point in 0..16 {
            let deg = compass_degrees(point).expect("a point");
            assert_eq!(compass_point(f64::from(deg)), point);
        }
        assert_eq!(compass_point(350.0), 0);
        assert_eq!(compass_point(40.0), 2);
    }

    #[test]
    fn details_become_schema_fields_and_survive_the_draft() {
        let form = Form {
            kind: "violation".into(),
            category: "shelling".into(),
            method: "heard".into(),
            direction: 2,
            distance_min: "1500".into(),
            distance_max: "3000".into(),
            weapon: " 82mm mortar (assessed) ".into(),
            initiator: "unknown".into(),
            target: "party_b".into(),
            killed: "0".into(),
            injured: "2".into(),
            lat: "48.0159".into(),
            lon: "37.8028".into(),
            accuracy: "12,5".into(),
            location_source: "gps".into(),
            ..Form::default()
        };
        let json = form.to_json().expect("valid");
        assert_eq!(json["direction_deg"], 45);
        assert_eq!(json["distance_min_m"], 1500);
        assert_eq!(json["distance_max_m"], 3000);
        assert_eq!(json["weapon"], "82mm mortar (assessed)");
        assert_eq!(json["initiator"], "unknown");
        assert_eq!(json["target"], "party_b");
        assert_eq!(json["killed"], 0);
        assert_eq!(json["injured"], 2);
        assert_eq!(json["accuracy_m"], 12.5);
        assert_eq!(json["location_source"], "gps");
        let observation = truce_sync::Observation::from_new_json(
            json,
            truce_sync::NewObservationDefaults {
                id: uuid::Uuid::now_v7(),
                now: chrono::Local::now().fixed_offset(),
            },
            &Taxonomy::builtin(),
        )
        .expect("a valid schema v1 observation");
        assert_eq!(observation.direction_deg, Some(45));
        assert_eq!(observation.injured, Some(2));
        assert!(form.has_details());
        assert_eq!(Form::from_draft(&form.to_draft()), form);

        let bad = Form {
            killed: "two".into(),
            ..Form::default()
        };
        assert_eq!(bad.to_json().unwrap_err().field, "killed");
        let bad = Form {
            distance_max: "-5".into(),
            ..Form::default()
        };
        assert_eq!(bad.to_json().unwrap_err().field, "distance_max_m");
        let bad = Form {
            accuracy: "good".into(),
            ..Form::default()
        };
        assert_eq!(bad.to_json().unwrap_err().field, "accuracy_m");
        assert!(!Form::default().has_details());
    }

    #[test]
    fn bad_numbers_name_their_field() {
        let form = Form {
            lat: "north".into(),
            ..Form::default()
        };
        assert_eq!(form.to_json().unwrap_err().field, "lat");
        let form = Form {
            count: "about 40".into(),
            ..Form::default()
        };
        assert_eq!(form.to_json().unwrap_err().field, "event_count");
        let form = Form {
            lat: "48,5".into(),
            lon: "37.8".into(),
            count: "40".into(),
            count_approx: true,
            ..Form::default()
        };
        let json = form.to_json().expect("valid");
        assert_eq!(json["lat"], 48.5);
        assert_eq!(json["count_approx"], true);
    }
}
