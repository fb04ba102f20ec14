//! Adapter for `EntryAdapter`: the new-observation form becomes a schema v1 JSON object for
//! `Journal::record`; its `SchemaError` comes back next to the form, naming the field.

use std::rc::Rc;

use serde_json::{Map, Value};
use slint::{ComponentHandle, ModelRc, VecModel};
use truce_sync::observation::Method;
use truce_sync::Taxonomy;

use crate::journal::JournalError;

use super::journal_view::choices;
use super::ui::{AppWindow, Choice, EntryAdapter, Screen};
use super::{format, App};

/// A form value that cannot become JSON: the schema v1 field and what to do.
#[derive(Debug, PartialEq)]
pub(crate) struct FormError {
    pub field: &'static str,
    pub message: String,
}

/// The form, as plain strings (so it can be tested without a window).
#[derive(Debug, Default, Clone)]
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
        Ok(map)
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
        }
    }
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let adapter = window.global::<EntryAdapter>();
    let taxonomy = Taxonomy::builtin();
    adapter.set_kinds(choices(&taxonomy.kinds));
    adapter.set_categories(choices(&taxonomy.categories));
    let methods: Vec<Choice> = Method::ALL
        .iter()
        .map(|m| Choice {
            code: m.code().into(),
            label: m.code().replace('_', " ").into(),
        })
        .collect();
    adapter.set_methods(ModelRc::new(VecModel::from(methods)));
    clear(window);

    let weak = Rc::downgrade(app);
    adapter.on_set_now(move || {
        if let Some(w) = weak.upgrade().and_then(|a| a.window()) {
            w.global::<EntryAdapter>()
                .set_observed_at(format::now_for_form().into());
        }
    });
    let weak = Rc::downgrade(app);
    adapter.on_cancel(move || {
        if let Some(app) = weak.upgrade() {
            app.go(Screen::Journal);
        }
    });
    let weak = Rc::downgrade(app);
    adapter.on_save(move || {
        if let Some(app) = weak.upgrade() {
            save(&app);
        }
    });
}

/// Opens an empty form, time set to now.
pub(crate) fn start(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    clear(&w);
    w.global::<EntryAdapter>()
        .set_observed_at(format::now_for_form().into());
    app.go(Screen::Entry);
}

fn show_error(w: &AppWindow, field: &str, message: &str) {
    let adapter = w.global::<EntryAdapter>();
    adapter.set_error_field(field.into());
    adapter.set_error_message(message.into());
}

fn save(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let form = Form::read(&w.global::<EntryAdapter>());
    let input = match form.to_json() {
        Ok(input) => input,
        Err(e) => return show_error(&w, e.field, &e.message),
    };
    show_error(&w, "", "");
    app.submit(Box::new(move |journal| {
        let result = match journal.as_mut() {
            None => Err(None),
            Some(j) => j.record(input).map_err(Some),
        };
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok(saved) => {
                    clear(&w);
                    app.upsert_observation(saved);
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
        })
    }));
}

/// Empties the form (after a save, and on lock).
pub(crate) fn clear(window: &AppWindow) {
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
    ] {
        set(&adapter, "".into());
    }
    adapter.set_count_approx(false);
    adapter.set_severity(0);
}

#[cfg(test)]
mod tests {
    use super::*;

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
