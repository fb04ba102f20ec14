//! Adapters for `DetailAdapter` and `VerifyAdapter`: one observation with every field and its
//! revision history, and Amend, which becomes a partial JSON object for `Journal::amend` (a new
//! revision). For a coordinator, the verification status with its audit trail (`Journal::verify`,
//! `Journal::verification_trail`) and the reports linked as the same event (`Journal::link`),
//! with the reports likely to be the same event suggested (`Journal::link_suggestions`).

use std::rc::Rc;

use serde_json::{Map, Value};
use slint::{ComponentHandle, Model, ModelRc, VecModel};
use truce_sync::{ObservationRevision, SchemaError};

use truce_core::journal::{Journal, JournalError};
use truce_core::model::{AttachmentPreview, LinkSuggestion, VerificationEvent};
use truce_sync::verification::VerificationStatus;
use truce_sync::Role;

use crate::format;
use crate::rows::{fields, observation_row, queue_item, suggestion_item};
use crate::state::{on_app, on_app_with, App, Event};
use crate::ui::{
    AppWindow, AttachmentRow, DetailAdapter, LinkSuggestionItem, QueueItem, RevisionRow, Screen,
    TrailRow, VerifyAdapter,
};

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let adapter = window.global::<DetailAdapter>();
    clear(window);
    adapter.on_close(on_app(app, move |app| app.go(Screen::Journal)));
    adapter.on_start_amend(on_app(app, start_amend));
    adapter.on_save_copy(on_app_with(app, move |app, sha256: slint::SharedString| {
        save_copy(app, sha256.to_string());
    }));
    adapter.on_save_amend(on_app(app, save_amend));
    adapter.on_open_viewer(on_app_with(app, move |app, sha256: slint::SharedString| {
        open_viewer(app, sha256.to_string());
    }));
    adapter.on_close_viewer(on_app(app, close_viewer));
    adapter.on_write_package(on_app(app, write_package));
    let verify = window.global::<VerifyAdapter>();
    verify.on_save(on_app(app, save_status));
    verify.on_link(on_app(app, link));
    verify.on_link_suggestion(on_app_with(app, move |app, other: slint::SharedString| {
        link_with(app, other.to_string());
    }));
    verify.on_open(on_app_with(app, move |app, id: slint::SharedString| {
        app.open_observation(id.as_str());
    }));
    app.subscribe(|app, event| match event {
        Event::Open(id) => open(app, id),
        Event::Locked => {
            if let Some(w) = app.window() {
                clear(&w);
            }
        }
        _ => {}
    });
}

/// What a coordinator sees of an observation besides its fields.
pub(crate) struct Verification {
    trail: Vec<VerificationEvent>,
    /// The other observations of its event, with their status.
    cluster: Vec<(ObservationRevision, VerificationStatus)>,
    /// Reports likely to be the same event, best first.
    suggestions: Vec<LinkSuggestion>,
}

fn status_of(trail: &[VerificationEvent]) -> VerificationStatus {
    trail.last().map(|e| e.status).unwrap_or_default()
}

/// The trail and the event cluster of `id`, or `None` for a monitor's journal.
fn verification(journal: &Journal, id: &str) -> Result<Option<Verification>, JournalError> {
    if journal.device().role != Role::Coordinator {
        return Ok(None);
    }
    let trail = journal.verification_trail(id)?;
    let mut cluster = Vec::new();
    if let Some((_, ids)) = journal.event_cluster(id)? {
        for other in ids.iter().map(ToString::to_string).filter(|o| o != id) {
            let history = journal.show(&other)?;
            if let Some(latest) = history.into_iter().last() {
                cluster.push((latest, status_of(&journal.verification_trail(&other)?)));
            }
        }
    }
    // Suggestions are a help: if they cannot be made, the detail still shows.
    let suggestions = journal.link_suggestions(id).unwrap_or_else(|e| {
        tracing::warn!("no link suggestions: {e}");
        Vec::new()
    });
    Ok(Some(Verification {
        trail,
        cluster,
        suggestions,
    }))
}

/// The trail as the screen lists it, newest first, each step with the status it replaced.
pub(crate) fn trail_rows(trail: &[VerificationEvent]) -> Vec<TrailRow> {
    let mut previous = VerificationStatus::default();
    let mut rows: Vec<TrailRow> = trail
        .iter()
        .map(|e| {
            let row = TrailRow {
                from: previous.code().into(),
                to: e.status.code().into(),
                note: e.note.as_str().into(),
                by: e.by_observer.as_str().into(),
                at: chrono::DateTime::parse_from_rfc3339(&e.at)
                    .map(|t| format::time(&t))
                    .unwrap_or_else(|_| e.at.clone())
                    .into(),
            };
            previous = e.status;
            row
        })
        .collect();
    rows.reverse();
    rows
}

fn show_verification(app: &Rc<App>, w: &AppWindow, info: Option<Verification>) {
    let verify = w.global::<VerifyAdapter>();
    let Some(info) = info else {
        verify.set_enabled(false);
        return;
    };
    let vocabulary = app.vocabulary();
    let taxonomy = &vocabulary.taxonomy;
    verify.set_enabled(true);
    verify.set_status(status_of(&info.trail).code().into());
    verify.set_trail(ModelRc::new(VecModel::from(trail_rows(&info.trail))));
    let cluster: Vec<QueueItem> = info
        .cluster
        .iter()
        .map(|(r, s)| queue_item(r, *s, taxonomy))
        .collect();
    verify.set_cluster(ModelRc::new(VecModel::from(cluster)));
    let suggestions: Vec<LinkSuggestionItem> = info
        .suggestions
        .iter()
        .map(|s| suggestion_item(s, taxonomy))
        .collect();
    verify.set_suggestions(ModelRc::new(VecModel::from(suggestions)));
    if let Some(current) = app.selected() {
        app.notify(Event::StatusChanged {
            id: &current.key().to_string(),
            status: status_of(&info.trail),
        });
    }
}

fn reset_verification_form(w: &AppWindow) {
    let verify = w.global::<VerifyAdapter>();
    verify.set_new_status("".into());
    verify.set_note("".into());
    verify.set_error("".into());
    verify.set_saved("".into());
    verify.set_link_id("".into());
    verify.set_link_error("".into());
    verify.set_linked(false);
}

/// Loads an observation's history on the journal thread, then shows it.
fn open(app: &Rc<App>, id: &str) {
    let id = id.to_owned();
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_ref()
            .map(|j| Ok::<_, JournalError>((j.show(&id)?, verification(j, &id)?)));
        Box::new(move |app: &Rc<App>| match result {
            Some(Ok((history, info))) => {
                show(app, &history);
                if let Some(w) = app.window() {
                    reset_verification_form(&w);
                    show_verification(app, &w, info);
                }
                app.go(Screen::Detail);
            }
            Some(Err(e)) => tracing::warn!("cannot show an observation: {e}"),
            None => {}
        })
    }));
}

fn show(app: &Rc<App>, history: &[ObservationRevision]) {
    let Some(w) = app.window() else { return };
    let Some(current) = history.last() else {
        return;
    };
    let adapter = w.global::<DetailAdapter>();
    let vocabulary = app.vocabulary();
    adapter.set_current(observation_row(current, &vocabulary.taxonomy));
    adapter.set_fields(ModelRc::new(VecModel::from(fields(
        current,
        &vocabulary.parties,
    ))));
    adapter.set_narrative(current.observation.narrative.as_str().into());
    let attachments: Vec<AttachmentRow> = current
        .observation
        .attachments
        .iter()
        .map(|a| AttachmentRow {
            sha256: a.sha256.as_str().into(),
            name: a.name.as_str().into(),
            about: truce_core::evidence::summary(a).into(),
            kind: attachment_kind(&a.media_type).into(),
            note: truce_core::evidence::size_text(a.size).into(),
            ..Default::default()
        })
        .collect();
    let hashes: Vec<String> = attachments.iter().map(|a| a.sha256.to_string()).collect();
    adapter.set_attachments(ModelRc::new(VecModel::from(attachments)));
    adapter.set_copy_saved("".into());
    adapter.set_copy_error("".into());
    adapter.set_package_saved("".into());
    adapter.set_package_error("".into());
    adapter.set_can_write_package(app.is_coordinator() && !hashes.is_empty());
    load_previews(app, hashes);
    if adapter.get_copy_dir().is_empty() {
        if let Some(dir) = copies_dir() {
            adapter.set_copy_dir(dir.display().to_string().into());
        }
    }
    let revisions: Vec<RevisionRow> = history
        .iter()
        .enumerate()
        .rev()
        .map(|(i, r)| RevisionRow {
            revision: r.revision as i32,
            recorded_at: format::time(&r.recorded_at).into(),
            observer: r.observer.as_str().into(),
            changes: format::changes(i.checked_sub(1).map(|p| &history[p]), r).into(),
        })
        .collect();
    adapter.set_history(ModelRc::new(VecModel::from(revisions)));
    adapter.set_amending(false);
    adapter.set_error_field("".into());
    adapter.set_error_message("".into());
    // The lists mark it (wide layout).
    app.set_selected(Some(current.clone()));
}

/// Checks the form, then gives the observation on screen its new status on the journal thread.
fn save_status(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let Some(current) = app.selected() else {
        return;
    };
    let verify = w.global::<VerifyAdapter>();
    verify.set_saved("".into());
    let Some(status) = VerificationStatus::from_code(&verify.get_new_status()) else {
        verify.set_error("status-required".into());
        return;
    };
    let note = verify.get_note().trim().to_owned();
    if note.is_empty() {
        verify.set_error("note-required".into());
        return;
    }
    verify.set_error("".into());
    let id = current.key().to_string();
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().map(|j| {
            j.verify(&id, status, &note)?;
            verification(j, &id)
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let verify = w.global::<VerifyAdapter>();
            match result {
                Some(Ok(info)) => {
                    show_verification(app, &w, info);
                    verify.set_saved(status.code().into());
                    verify.set_note("".into());
                    verify.set_new_status("".into());
                }
                Some(Err(e)) => verify.set_error(e.to_string().into()),
                None => {}
            }
        })
    }));
}

/// Links the observation on screen with the one whose id (or unique part) was typed.
fn link(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let other = w.global::<VerifyAdapter>().get_link_id().trim().to_owned();
    link_with(app, other);
}

/// Links the observation on screen with `other` (an id or a unique part of one), then shows
/// the event cluster and the suggestions again.
fn link_with(app: &Rc<App>, other: String) {
    let Some(w) = app.window() else { return };
    let Some(current) = app.selected() else {
        return;
    };
    let verify = w.global::<VerifyAdapter>();
    verify.set_linked(false);
    if other.is_empty() {
        return;
    }
    verify.set_link_error("".into());
    let id = current.key().to_string();
    app.submit(Box::new(move |journal| {
        let result = journal.as_mut().map(|j| {
            j.link(&[id.clone(), other])?;
            verification(j, &id)
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let verify = w.global::<VerifyAdapter>();
            match result {
                Some(Ok(info)) => {
                    show_verification(app, &w, info);
                    verify.set_linked(true);
                    verify.set_link_id("".into());
                }
                Some(Err(e)) => verify.set_link_error(e.to_string().into()),
                None => {}
            }
        })
    }));
}

/// Where copies go unless the user names a folder: the desktop's download folder.
fn copies_dir() -> Option<std::path::PathBuf> {
    std::env::var_os("XDG_DOWNLOAD_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| std::path::PathBuf::from(h).join("Downloads")))
        .filter(|d| d.is_dir())
}

/// What a gallery tile calls a file of this media type.
fn attachment_kind(media_type: &str) -> &'static str {
    match media_type.split('/').next() {
        Some("image") => "photo",
        Some("audio") => "audio",
        Some("video") => "video",
        _ => "document",
    }
}

/// A decoded picture as Slint shows it.
fn slint_image(picture: &truce_core::model::Picture) -> slint::Image {
    slint::Image::from_rgba8(slint::SharedPixelBuffer::clone_from_slice(
        &picture.rgba,
        picture.width,
        picture.height,
    ))
}

/// Makes (or reads back) the previews of the files on screen on the worker thread, then puts
/// them in the gallery if the same files are still shown.
fn load_previews(app: &Rc<App>, hashes: Vec<String>) {
    if hashes.is_empty() {
        return;
    }
    app.submit(Box::new(move |journal| {
        let previews: Vec<(String, Result<AttachmentPreview, String>)> = match journal.as_ref() {
            Some(j) => hashes
                .iter()
                .map(|h| {
                    (
                        h.clone(),
                        j.attachment_preview(h).map_err(|e| e.to_string()),
                    )
                })
                .collect(),
            None => Vec::new(),
        };
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let rows = w.global::<DetailAdapter>().get_attachments();
            for (sha, preview) in previews {
                let Some(i) = rows.iter().position(|r| r.sha256.as_str() == sha) else {
                    continue;
                };
                let Some(mut row) = rows.row_data(i) else {
                    continue;
                };
                match preview {
                    Ok(p) if !p.held => {
                        row.kind = "pending".into();
                        row.note = "".into();
                        row.about = format!("{} · attachment pending", row.about).into();
                    }
                    Ok(p) => {
                        if let Some(thumb) = &p.thumbnail {
                            row.thumbnail = slint_image(thumb);
                            row.has_thumbnail = true;
                        }
                        if let Some(problem) = &p.problem {
                            row.note = problem.as_str().into();
                        } else if let Some((width, height)) = p.pixels {
                            row.note = format!("{width} × {height}").into();
                        } else if let Some(ms) = p.duration_ms {
                            row.note = format::duration(ms).into();
                        }
                    }
                    Err(e) => row.note = e.into(),
                }
                rows.set_row_data(i, row);
            }
        })
    }));
}

/// The size the full-screen viewer decodes a photo to (its longer side).
const VIEWER_SIDE: u32 = 2048;

fn open_viewer(app: &Rc<App>, sha256: String) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<DetailAdapter>();
    let name = adapter
        .get_attachments()
        .iter()
        .find(|a| a.sha256.as_str() == sha256)
        .map(|a| a.name)
        .unwrap_or_default();
    adapter.set_viewer_name(name);
    adapter.set_viewer_error("".into());
    adapter.set_viewer_image(Default::default());
    adapter.set_viewer_loading(true);
    adapter.set_viewer_open(true);
    app.submit(Box::new(move |journal| {
        let picture = journal
            .as_ref()
            .map(|j| j.attachment_picture(&sha256, VIEWER_SIDE));
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<DetailAdapter>();
            adapter.set_viewer_loading(false);
            match picture {
                Some(Ok(picture)) => adapter.set_viewer_image(slint_image(&picture)),
                Some(Err(e)) => adapter.set_viewer_error(e.to_string().into()),
                None => adapter.set_viewer_open(false),
            }
        })
    }));
}

/// Closes the viewer and lets go of the decoded picture.
fn close_viewer(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<DetailAdapter>();
    adapter.set_viewer_open(false);
    adapter.set_viewer_loading(false);
    adapter.set_viewer_image(Default::default());
}

/// Coordinators: writes the observation's evidence package into a new folder inside the
/// folder on screen, named after the observation.
fn write_package(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let Some(current) = app.selected() else {
        return;
    };
    let adapter = w.global::<DetailAdapter>();
    adapter.set_package_saved("".into());
    adapter.set_package_error("".into());
    let dir = std::path::PathBuf::from(adapter.get_copy_dir().trim());
    if !dir.is_dir() {
        adapter.set_package_error(format!("“{}” is not a folder", dir.display()).into());
        return;
    }
    let id = current.observation.id.to_string();
    let end = &id[id.len().saturating_sub(8)..];
    let mut out = dir.join(format!("evidence-{end}"));
    let mut n = 2;
    while out.exists() {
        out = dir.join(format!("evidence-{end}-{n}"));
        n += 1;
    }
    let key = format!("{id}@{}", current.device_id);
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_ref()
            .map(|j| j.write_evidence_package(&key, &out));
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<DetailAdapter>();
            match result {
                Some(Ok(package)) => {
                    adapter.set_package_saved(package.folder.display().to_string().into())
                }
                Some(Err(e)) => adapter.set_package_error(e.to_string().into()),
                None => {}
            }
        })
    }));
}

/// Writes the original of an attachment into the folder on screen, as a new file in the clear
/// (the screen says so), named after the file it was attached as.
fn save_copy(app: &Rc<App>, sha256: String) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<DetailAdapter>();
    adapter.set_copy_saved("".into());
    adapter.set_copy_error("".into());
    let dir = std::path::PathBuf::from(adapter.get_copy_dir().trim());
    let name = adapter
        .get_attachments()
        .iter()
        .find(|a| a.sha256.as_str() == sha256)
        .map(|a| a.name.to_string())
        .unwrap_or_default();
    if !dir.is_dir() {
        adapter.set_copy_error(format!("“{}” is not a folder", dir.display()).into());
        return;
    }
    // The name was checked as a plain file name when the record was saved; `file_name` keeps
    // it so.
    let Some(name) = std::path::Path::new(&name)
        .file_name()
        .map(|n| n.to_owned())
    else {
        return;
    };
    let out = dir.join(name);
    app.submit(Box::new(move |journal| {
        let result = journal
            .as_ref()
            .map(|j| j.save_attachment_copy(&sha256, &out).map(|_| out));
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<DetailAdapter>();
            match result {
                Some(Ok(out)) => adapter.set_copy_saved(out.display().to_string().into()),
                Some(Err(e)) => adapter.set_copy_error(e.to_string().into()),
                None => {}
            }
        })
    }));
}

fn start_amend(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let Some(current) = app.selected() else {
        return;
    };
    let o = &current.observation;
    let adapter = w.global::<DetailAdapter>();
    adapter.set_amend_severity(o.severity.map(i32::from).unwrap_or(0));
    adapter.set_amend_count(
        o.event_count
            .map(|n| n.to_string())
            .unwrap_or_default()
            .into(),
    );
    adapter.set_amend_narrative(o.narrative.as_str().into());
    adapter.set_error_field("".into());
    adapter.set_error_message("".into());
    adapter.set_amending(true);
}

/// The partial JSON object for `Journal::amend`: only what the form changed; `null` clears.
pub(crate) fn patch(
    current: &ObservationRevision,
    severity: i32,
    count: &str,
    narrative: &str,
) -> Result<Map<String, Value>, (String, String)> {
    let o = &current.observation;
    let mut patch = Map::new();
    let severity = u8::try_from(severity).ok().filter(|s| *s > 0);
    if severity != o.severity {
        patch.insert(
            "severity".into(),
            severity.map(Value::from).unwrap_or(Value::Null),
        );
    }
    let count = count.trim();
    let count = if count.is_empty() {
        None
    } else {
        Some(count.parse::<u32>().map_err(|_| {
            (
                "event_count".to_owned(),
                format!("“{count}” is not a whole number, e.g. 40"),
            )
        })?)
    };
    if count != o.event_count {
        patch.insert(
            "event_count".into(),
            count.map(Value::from).unwrap_or(Value::Null),
        );
    }
    if narrative != o.narrative {
        patch.insert("narrative".into(), Value::String(narrative.to_owned()));
    }
    Ok(patch)
}

fn show_error(w: &AppWindow, field: &str, message: &str) {
    let adapter = w.global::<DetailAdapter>();
    adapter.set_error_field(field.into());
    adapter.set_error_message(message.into());
}

fn save_amend(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let Some(current) = app.selected() else {
        return;
    };
    let adapter = w.global::<DetailAdapter>();
    let patch = match patch(
        &current,
        adapter.get_amend_severity(),
        &adapter.get_amend_count(),
        &adapter.get_amend_narrative(),
    ) {
        Ok(patch) => patch,
        Err((field, message)) => return show_error(&w, &field, &message),
    };
    show_error(&w, "", "");
    let id = current.key().to_string();
    app.submit(Box::new(move |journal| {
        let result = match journal.as_mut() {
            None => Err(None),
            Some(j) => j.amend(&id, patch).and_then(|_| j.show(&id)).map_err(Some),
        };
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok(history) => {
                    if let Some(latest) = history.last() {
                        app.saved(latest);
                    }
                    show(app, &history);
                }
                Err(None) => {}
                Err(Some(JournalError::Invalid(e))) => {
                    let message = match &e {
                        SchemaError::Field { message, .. } => message.clone(),
                        other => other.to_string(),
                    };
                    show_error(&w, e.field_name().unwrap_or(""), &message);
                }
                Err(Some(other)) => show_error(&w, "", &other.to_string()),
            }
        })
    }));
}

/// Forgets the observation on screen (on lock).
fn clear(window: &AppWindow) {
    let adapter = window.global::<DetailAdapter>();
    adapter.set_current(Default::default());
    adapter.set_fields(ModelRc::default());
    adapter.set_history(ModelRc::default());
    adapter.set_narrative("".into());
    adapter.set_attachments(ModelRc::default());
    adapter.set_copy_saved("".into());
    adapter.set_copy_error("".into());
    adapter.set_package_saved("".into());
    adapter.set_package_error("".into());
    adapter.set_can_write_package(false);
    adapter.set_viewer_open(false);
    adapter.set_viewer_image(Default::default());
    adapter.set_amending(false);
    adapter.set_amend_count("".into());
    adapter.set_amend_narrative("".into());
    adapter.set_amend_severity(0);
    adapter.set_error_field("".into());
    adapter.set_error_message("".into());
    reset_verification_form(window);
    let verify = window.global::<VerifyAdapter>();
    verify.set_enabled(false);
    verify.set_status("unverified".into());
    verify.set_trail(ModelRc::default());
    verify.set_cluster(ModelRc::default());
    verify.set_suggestions(ModelRc::default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::tests::revision;

    #[test]
    fn the_patch_holds_only_what_changed() {
        let current = revision();
        assert!(patch(&current, 3, "40", "Shelling")
            .expect("patch")
            .is_empty());
        let p = patch(&current, 0, "", "Shelling, 82mm").expect("patch");
        assert_eq!(p["severity"], Value::Null);
        assert_eq!(p["event_count"], Value::Null);
        assert_eq!(p["narrative"], "Shelling, 82mm");
        assert_eq!(p.len(), 3);
        assert_eq!(
            patch(&current, 3, "forty", "Shelling").unwrap_err().0,
            "event_count"
        );
    }
}
