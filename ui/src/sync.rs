//! Adapter for `SyncAdapter`: a monitor exports the entries not yet exported to a folder, reads
//! the coordinators' receipts from it and installs the mission profile; a coordinator writes
//! receipts too; a coordinator imports bundle files or folders, one bundle per
//! job so the screen shows "n / total", and reads a report per bundle. Every file is read and
//! written on the journal thread, through the use cases of `truce_core::exchange`.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use slint::{ComponentHandle, Model, ModelRc, VecModel};

use truce_core::exchange::bundle_files;
use truce_core::journal::{Journal, JournalError};
use truce_core::model::ImportReport;

use crate::files::{default_export_dir, read_profile, stick_folder, Choose, Chosen};
use crate::format;
use crate::rows::gaps;
use crate::state::{on_app, App, Change, Event, Vocabulary};
use crate::ui::{AppWindow, BundleRow, Screen, SyncAdapter, SyncOutcome};

/// A first mission profile read on the Sync screen, waiting for the user to confirm its
/// signer's fingerprint (cleared on lock).
type Waiting = Rc<RefCell<Option<String>>>;

/// What the Sync screen shows about the journal.
struct Status {
    pending: u64,
    /// Monitors: where the log's entries stand.
    delivery: Option<truce_core::model::DeliverySummary>,
    mission: Option<String>,
    signer: Option<String>,
    recipient: Option<String>,
    /// Regional offices: bundles kept for HQ, and those never written out for it.
    forwarding: Option<(u64, u64)>,
    can_hand_over: bool,
}

fn status(journal: &Journal) -> Result<Status, JournalError> {
    let coordinator = journal.device().role == truce_sync::Role::Coordinator;
    Ok(Status {
        pending: journal.pending_export()?,
        delivery: if coordinator {
            None
        } else {
            Some(journal.delivery()?)
        },
        mission: journal.profile()?.map(|p| p.profile.mission),
        signer: journal
            .profile()?
            .map(|p| truce_sync::fingerprint(&p.signer_key)),
        recipient: if coordinator {
            journal.keys()?.recipient
        } else {
            None
        },
        forwarding: if journal.is_regional_office() {
            Some(journal.forwarding_status()?)
        } else {
            None
        },
        can_hand_over: journal.can_hand_over(),
    })
}

fn locked() -> JournalError {
    JournalError::Locked
}

pub(crate) fn connect(window: &AppWindow, app: &Rc<App>) {
    let adapter = window.global::<SyncAdapter>();
    clear(window);
    // The markup's preview values are not paths on this machine.
    adapter.set_export_dir("".into());
    adapter.set_import_path("".into());
    adapter.set_profile_path("".into());

    let waiting: Waiting = Rc::default();
    adapter.on_export(on_app(app, export));
    let w = waiting.clone();
    adapter.on_import_profile(on_app(app, move |app| import_profile(app, &w)));
    let w = waiting.clone();
    adapter.on_confirm_profile(on_app(app, move |app| confirm_profile(app, &w)));
    let w = waiting.clone();
    adapter.on_cancel_profile(on_app(app, move |app| cancel_profile(app, &w)));
    adapter.on_import_bundles(on_app(app, import_bundles));
    adapter.on_read_receipts(on_app(app, read_receipts));
    adapter.on_write_receipts(on_app(app, write_receipts));
    adapter.on_write_enrolment(on_app(app, write_enrolment));
    adapter.on_forward_bundles(on_app(app, forward_bundles));
    crate::handover::connect(&adapter, app);
    crate::new_profile::connect(&adapter, app);
    adapter.on_choose_export_folder(on_app(app, |app| {
        choose_path(app, Choose::ExportFolder, "Folder to export bundles into");
    }));
    adapter.on_choose_profile_file(on_app(app, |app| {
        choose_path(app, Choose::ProfileFile, "Mission profile file");
    }));
    adapter.on_choose_card_file(on_app(app, |app| {
        choose_path(app, Choose::CardFile, "The successor's coordinator card");
    }));

    app.subscribe(move |app, event| match event {
        Event::Unlocked(session) => {
            if let Some(w) = app.window() {
                w.global::<SyncAdapter>()
                    .set_coordinator(session.coordinator);
            }
        }
        Event::Shown {
            to: Screen::Sync, ..
        } => open(app),
        Event::JournalChanged(Change::Opened | Change::Saved(_)) => refresh_pending(app),
        Event::Locked => {
            waiting.borrow_mut().take();
            if let Some(w) = app.window() {
                clear(&w);
            }
        }
        _ => {}
    });
}

/// The screen opens: forget the last outcome, read the status on the journal thread.
fn open(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<SyncAdapter>();
    set_outcome(&w, SyncOutcome::None, "");
    adapter.set_progress_done(0);
    adapter.set_progress_total(0);
    adapter.set_reports(ModelRc::new(VecModel::<BundleRow>::default()));
    let prefill = adapter.get_export_dir().is_empty();
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().ok_or_else(locked).and_then(status);
        let folder = prefill.then(default_export_dir).flatten();
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            if let Some(folder) = folder {
                w.global::<SyncAdapter>()
                    .set_export_dir(folder.display().to_string().into());
            }
            show_status(app, result);
        })
    }));
}

/// Reads the number of entries not yet exported (the journal list shows it), quietly.
fn refresh_pending(app: &Rc<App>) {
    app.submit_quiet(Box::new(|journal| {
        let pending = journal.as_ref().map(Journal::pending_export);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match pending {
                Some(Ok(n)) if app.is_unlocked() => w
                    .global::<SyncAdapter>()
                    .set_pending(n.min(i32::MAX as u64) as i32),
                Some(Err(e)) => tracing::warn!("cannot count the entries to export: {e}"),
                _ => {}
            }
        })
    }));
}

fn show_status(app: &Rc<App>, result: Result<Status, JournalError>) {
    let Some(w) = app.window() else { return };
    if !app.is_unlocked() {
        return;
    }
    let adapter = w.global::<SyncAdapter>();
    match result {
        Ok(status) => {
            adapter.set_pending(status.pending.min(i32::MAX as u64) as i32);
            adapter.set_mission(status.mission.unwrap_or_default().into());
            adapter.set_profile_signer(status.signer.unwrap_or_default().into());
            adapter.set_recipient(status.recipient.unwrap_or_default().into());
            let delivery = status.delivery.unwrap_or_default();
            adapter.set_confirmed(delivery.confirmed.min(i32::MAX as u64) as i32);
            adapter.set_awaiting(delivery.awaiting.min(i32::MAX as u64) as i32);
            adapter
                .set_unconfirmed_records(delivery.unconfirmed_records.min(i32::MAX as u64) as i32);
            adapter.set_purged(delivery.purged_records.min(i32::MAX as u64) as i32);
            adapter.set_resend(gaps(&delivery.owed_again).into());
            let (held, to_forward) = status.forwarding.unwrap_or_default();
            adapter.set_regional_office(status.forwarding.is_some());
            adapter.set_forward_held(held.min(i32::MAX as u64) as i32);
            adapter.set_forward_pending(to_forward.min(i32::MAX as u64) as i32);
            adapter.set_can_hand_over(status.can_hand_over);
        }
        Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
    }
}

/// The export folder or the profile file from the desktop's file chooser; without one, the
/// screen says to type the path.
fn choose_path(app: &Rc<App>, what: Choose, title: &str) {
    app.choose(what, title, move |app, chosen| {
        let Some(w) = app.window() else { return };
        let adapter = w.global::<SyncAdapter>();
        adapter.set_chooser_message("".into());
        match chosen {
            Ok(Chosen::Paths(paths)) => {
                if let Some(path) = paths.first() {
                    let text = path.display().to_string().into();
                    match what {
                        Choose::ProfileFile => adapter.set_profile_path(text),
                        Choose::CardFile => adapter.set_handover_card(text),
                        _ => adapter.set_export_dir(text),
                    }
                }
            }
            Ok(Chosen::Cancelled) => {}
            Err(e) => adapter.set_chooser_message(
                format!("The system's file chooser is not available here ({e}): type the path.")
                    .into(),
            ),
        }
    });
}

fn set_outcome(w: &AppWindow, outcome: SyncOutcome, detail: &str) {
    let adapter = w.global::<SyncAdapter>();
    adapter.set_outcome(outcome);
    adapter.set_outcome_detail(detail.into());
}

fn export(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let dir = PathBuf::from(w.global::<SyncAdapter>().get_export_dir().trim());
    let mode = if w.global::<SyncAdapter>().get_text_first() {
        truce_core::model::AttachmentMode::TextFirst
    } else {
        truce_core::model::AttachmentMode::WithFiles
    };
    set_outcome(&w, SyncOutcome::None, "");
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().ok_or_else(locked).and_then(|j| {
            let written = j.export_pending_with(&dir, mode, |_| {})?;
            Ok((written, status(j)?))
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok((written, status)) => {
                    if written.is_empty() {
                        set_outcome(&w, SyncOutcome::NothingToExport, "");
                    } else {
                        // One bundle per range not yet exported: every file name, a line each.
                        let names: Vec<String> = written
                            .iter()
                            .map(|report| {
                                report
                                    .path
                                    .file_name()
                                    .map(|n| n.to_string_lossy().into_owned())
                                    .unwrap_or_default()
                            })
                            .collect();
                        set_outcome(&w, SyncOutcome::Exported, &names.join("\n"));
                    }
                    show_status(app, Ok(status));
                }
                Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
            }
        })
    }));
}

/// Applies the receipts for this device found in the export folder (the stick that came
/// back); the list then shows the records they confirm as received.
fn read_receipts(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let dir = PathBuf::from(w.global::<SyncAdapter>().get_export_dir().trim());
    set_outcome(&w, SyncOutcome::None, "");
    app.submit(Box::new(move |journal| {
        let result = journal.as_mut().ok_or_else(locked).and_then(|j| {
            let files = bundle_files(&[dir])?;
            let read = j.import_receipts(&files, |_| {})?;
            // A receipt may bring a newer profile: the form offers its choices.
            let profile_changed = read.applied.iter().any(|r| r.profile_installed.is_some());
            let vocabulary = match j.profile()? {
                Some(p) if profile_changed => Some(Vocabulary {
                    taxonomy: p.profile.taxonomy,
                    parties: p.profile.parties,
                    zone: j.mission_zone(),
                }),
                _ => None,
            };
            Ok((read, vocabulary, status(j)?))
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok((read, vocabulary, status)) => {
                    if let Some(vocabulary) = vocabulary {
                        app.set_vocabulary(vocabulary);
                    }
                    let adapter = w.global::<SyncAdapter>();
                    adapter.set_receipt_count(read.applied.len().min(i32::MAX as usize) as i32);
                    adapter.set_receipts_refused(read.refused.len().min(i32::MAX as usize) as i32);
                    let outcome = if read.applied.is_empty() {
                        SyncOutcome::NoReceipt
                    } else {
                        SyncOutcome::ReceiptsRead
                    };
                    // Each refused file by name, with why: the names come from the stick.
                    let refused: Vec<String> = read
                        .refused
                        .iter()
                        .map(|r| {
                            let name = r.file.file_name().map_or_else(
                                || r.file.display().to_string(),
                                |n| n.to_string_lossy().into_owned(),
                            );
                            crate::format::one_line(&format!("{name}: {}", r.reason))
                        })
                        .collect();
                    set_outcome(&w, outcome, &refused.join("\n"));
                    show_status(app, Ok(status));
                    reload_observations(app);
                }
                Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
            }
        })
    }));
}

/// Writes this device's enrolment request into the export folder; the banner shows the
/// fingerprint to read to the coordinator.
fn write_enrolment(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let dir = PathBuf::from(w.global::<SyncAdapter>().get_export_dir().trim());
    set_outcome(&w, SyncOutcome::None, "");
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().ok_or_else(locked).and_then(|j| {
            j.write_enrolment_request(&dir)?;
            Ok(j.device().fingerprint)
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok(fingerprint) => set_outcome(&w, SyncOutcome::EnrolmentWritten, &fingerprint),
                Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
            }
        })
    }));
}

/// Writes a receipt per device into the import folder (the courier's stick).
fn write_receipts(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let dir = PathBuf::from(w.global::<SyncAdapter>().get_import_path().trim());
    set_outcome(&w, SyncOutcome::None, "");
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().ok_or_else(locked).and_then(|j| {
            stick_folder(&dir, "receipts")?;
            j.write_receipts(&dir, |_| {})
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok(written) => {
                    w.global::<SyncAdapter>()
                        .set_receipt_count(written.len().min(i32::MAX as usize) as i32);
                    set_outcome(&w, SyncOutcome::ReceiptsWritten, "");
                }
                Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
            }
        })
    }));
}

/// A regional office writes the bundles HQ has not had into the folder (the stick).
fn forward_bundles(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let dir = PathBuf::from(w.global::<SyncAdapter>().get_import_path().trim());
    set_outcome(&w, SyncOutcome::None, "");
    app.submit(Box::new(move |journal| {
        let result = journal.as_ref().ok_or_else(locked).and_then(|j| {
            stick_folder(&dir, "the bundles for HQ")?;
            let written = j.forward(&dir)?;
            Ok((written.len(), status(j)?))
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok((count, status)) => {
                    w.global::<SyncAdapter>()
                        .set_forwarded_count(count.min(i32::MAX as usize) as i32);
                    set_outcome(&w, SyncOutcome::Forwarded, "");
                    show_status(app, Ok(status));
                }
                Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
            }
        })
    }));
}

/// Checks the profile file; an update from the same coordinator is installed at once, a
/// first profile waits until the user confirms its signer's fingerprint.
fn import_profile(app: &Rc<App>, waiting: &Waiting) {
    let Some(w) = app.window() else { return };
    let path = PathBuf::from(w.global::<SyncAdapter>().get_profile_path().trim());
    set_outcome(&w, SyncOutcome::None, "");
    let waiting = waiting.clone();
    app.submit_then(
        move |journal| {
            journal.as_ref().ok_or_else(locked).and_then(|j| {
                let text = read_profile(&path)?;
                let check = j.inspect_profile(&text)?;
                Ok((text, check))
            })
        },
        move |app, result| {
            let Some(w) = app.window() else { return };
            match result {
                Ok((text, check)) if check.first_install => {
                    let adapter = w.global::<SyncAdapter>();
                    adapter.set_confirm_mission(check.profile.mission.as_str().into());
                    adapter.set_confirm_signer(check.signer_fingerprint.as_str().into());
                    *waiting.borrow_mut() = Some(text);
                }
                Ok((text, _)) => install_profile(app, text),
                Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
            }
        },
    );
}

/// The waiting first profile, its signer confirmed: installed.
fn confirm_profile(app: &Rc<App>, waiting: &Waiting) {
    let text = waiting.borrow_mut().take();
    if let Some(text) = text {
        install_profile(app, text);
    }
    cancel_profile(app, waiting);
}

/// Forgets a first profile waiting for confirmation.
fn cancel_profile(app: &Rc<App>, waiting: &Waiting) {
    waiting.borrow_mut().take();
    if let Some(w) = app.window() {
        let adapter = w.global::<SyncAdapter>();
        adapter.set_confirm_signer("".into());
        adapter.set_confirm_mission("".into());
    }
}

fn install_profile(app: &Rc<App>, text: String) {
    app.submit(Box::new(move |journal| {
        let result = journal.as_mut().ok_or_else(locked).and_then(|j| {
            let profile = j.import_profile(&text)?;
            let vocabulary = Vocabulary {
                taxonomy: profile.taxonomy,
                parties: profile.parties,
                zone: j.mission_zone(),
            };
            Ok((profile.mission, vocabulary, status(j)?))
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match result {
                Ok((mission, vocabulary, status)) => {
                    // The form, the lists and the filters offer the new profile's choices.
                    app.set_vocabulary(vocabulary);
                    set_outcome(&w, SyncOutcome::ProfileImported, &mission);
                    w.global::<SyncAdapter>().set_profile_path("".into());
                    show_status(app, Ok(status));
                }
                Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
            }
        })
    }));
}

/// Finds the bundle files on the journal thread, then imports them a chunk per job.
fn import_bundles(app: &Rc<App>) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<SyncAdapter>();
    let path = PathBuf::from(adapter.get_import_path().trim());
    set_outcome(&w, SyncOutcome::None, "");
    adapter.set_progress_done(0);
    adapter.set_progress_total(0);
    adapter.set_reports(ModelRc::new(VecModel::<BundleRow>::default()));
    app.submit(Box::new(move |_journal| {
        let files = bundle_files(&[path]);
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            match files {
                Ok(files) if files.is_empty() => set_outcome(&w, SyncOutcome::Imported, ""),
                Ok(files) => {
                    let total = files.len();
                    w.global::<SyncAdapter>()
                        .set_progress_total(total.min(i32::MAX as usize) as i32);
                    for chunk in files.chunks(IMPORT_CHUNK) {
                        import_chunk(app, chunk.to_vec(), total);
                    }
                }
                Err(e) => set_outcome(&w, SyncOutcome::Error, &e.to_string()),
            }
        })
    }));
}

/// Bundles imported in one job on the journal thread: one import run (a commit, so one `fsync`,
/// at most per chunk), while the progress bar still moves every few bundles.
const IMPORT_CHUNK: usize = 20;

fn import_chunk(app: &Rc<App>, files: Vec<PathBuf>, total: usize) {
    app.submit(Box::new(move |journal| {
        let mut reports = Vec::new();
        let result = journal
            .as_mut()
            .ok_or_else(locked)
            .and_then(|j| j.import_bundles(&files, |durable| reports.extend_from_slice(durable)));
        let count = files.len();
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            if !app.is_unlocked() {
                return;
            }
            let adapter = w.global::<SyncAdapter>();
            let done = adapter.get_progress_done() as usize + count;
            adapter.set_progress_done(done.min(i32::MAX as usize) as i32);
            if !reports.is_empty() {
                let rows = adapter.get_reports();
                let mut list: Vec<BundleRow> = rows.iter().collect();
                list.extend(reports.iter().map(bundle_row));
                adapter.set_reports(ModelRc::new(VecModel::from(list)));
            }
            if let Err(e) = result {
                set_outcome(&w, SyncOutcome::Error, &e.to_string());
            }
            if done >= total {
                if adapter.get_outcome() != SyncOutcome::Error {
                    set_outcome(&w, SyncOutcome::Imported, "");
                }
                reload_observations(app);
            }
        })
    }));
}

/// After an import the journal holds other devices' records too: reload the first page of the
/// journal list and of the queue (each loads only its page, never every observation).
fn reload_observations(app: &Rc<App>) {
    if app.window().is_none() || !app.is_unlocked() {
        return;
    }
    app.notify(Event::JournalChanged(Change::Imported));
}

/// One line of the import report.
pub(crate) fn bundle_row(report: &ImportReport) -> BundleRow {
    let device = match (&report.device_id, &report.fingerprint) {
        (Some(id), Some(fp)) => format!("{} · {fp}", format::short_id(&id.to_string())),
        (Some(id), None) => format::short_id(&id.to_string()),
        _ => String::new(),
    };
    BundleRow {
        file: report
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .into(),
        device: device.into(),
        new_device: report.new_device,
        device_pending: report.device_pending,
        new_entries: report.new_entries.min(i32::MAX as u64) as i32,
        known_entries: report.known_entries.min(i32::MAX as u64) as i32,
        gaps: gaps(&report.gaps).into(),
        refused: report.refused.clone().unwrap_or_default().into(),
    }
}

/// Forgets what the Sync screen showed (on lock). The folder paths stay: they are not secret.
fn clear(window: &AppWindow) {
    let adapter = window.global::<SyncAdapter>();
    adapter.set_coordinator(false);
    adapter.set_pending(0);
    adapter.set_mission("".into());
    adapter.set_profile_signer("".into());
    adapter.set_confirm_signer("".into());
    adapter.set_confirm_mission("".into());
    adapter.set_recipient("".into());
    adapter.set_confirmed(0);
    adapter.set_awaiting(0);
    adapter.set_unconfirmed_records(0);
    adapter.set_purged(0);
    adapter.set_resend("".into());
    adapter.set_receipt_count(0);
    adapter.set_receipts_refused(0);
    adapter.set_regional_office(false);
    adapter.set_forward_held(0);
    adapter.set_forward_pending(0);
    adapter.set_forwarded_count(0);
    adapter.set_can_hand_over(false);
    crate::handover::clear(&adapter);
    crate::new_profile::clear(&adapter);
    adapter.set_outcome(SyncOutcome::None);
    adapter.set_outcome_detail("".into());
    adapter.set_progress_done(0);
    adapter.set_progress_total(0);
    adapter.set_reports(ModelRc::new(VecModel::<BundleRow>::default()));
}
