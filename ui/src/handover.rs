//! The Sync screen's hand-over: the coordinator that signed the mission profile reads its
//! successor's card, shows the name and fingerprint to check with them, and only then signs
//! the profile that names them, written into the folder of the stick.

use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

use slint::ComponentHandle;
use truce_core::journal::JournalError;
use truce_sync::profile::CoordinatorCard;

use crate::files::{read_card, stick_folder};
use crate::state::{on_app, App};
use crate::ui::{SyncAdapter, SyncOutcome};

/// The card checked on screen, waiting for the user to confirm its fingerprint (cleared on
/// lock and on cancel).
type Checked = Rc<RefCell<Option<CoordinatorCard>>>;

pub(crate) fn connect(adapter: &SyncAdapter<'_>, app: &Rc<App>) {
    let checked: Checked = Rc::default();
    let c = checked.clone();
    adapter.on_check_card(on_app(app, move |app| check_card(app, &c)));
    let c = checked.clone();
    adapter.on_hand_over(on_app(app, move |app| hand_over(app, &c)));
    adapter.on_cancel_hand_over(on_app(app, move |app| {
        checked.borrow_mut().take();
        if let Some(w) = app.window() {
            clear(&w.global::<SyncAdapter>());
        }
    }));
}

/// Forgets the card on screen.
pub(crate) fn clear(adapter: &SyncAdapter<'_>) {
    adapter.set_successor_name("".into());
    adapter.set_successor_fingerprint("".into());
}

/// The fingerprint of a card's signing key, as both sides show it.
fn card_fingerprint(card: &CoordinatorCard) -> String {
    truce_sync::bundle::parse_device_key(&card.signing_key)
        .map(|k| truce_sync::fingerprint(&k))
        .unwrap_or_default()
}

fn set_outcome(adapter: &SyncAdapter<'_>, outcome: SyncOutcome, detail: &str) {
    adapter.set_outcome(outcome);
    adapter.set_outcome_detail(detail.into());
}

/// Reads the card named on screen (on the worker: it is on a stick) and shows whose it is;
/// nothing is signed yet.
fn check_card(app: &Rc<App>, checked: &Checked) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<SyncAdapter>();
    set_outcome(&adapter, SyncOutcome::None, "");
    clear(&adapter);
    checked.borrow_mut().take();
    let path = PathBuf::from(adapter.get_handover_card().trim());
    let checked = checked.clone();
    app.submit_then(
        move |_journal| read_card(&path),
        move |app, result| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<SyncAdapter>();
            match result {
                Ok(card) => {
                    adapter.set_successor_name(crate::format::one_line(&card.name).into());
                    adapter.set_successor_fingerprint(card_fingerprint(&card).into());
                    *checked.borrow_mut() = Some(card);
                }
                Err(e) => set_outcome(&adapter, SyncOutcome::Error, &e.to_string()),
            }
        },
    );
}

/// Signs the hand-over to the checked card and writes the profile into the folder.
fn hand_over(app: &Rc<App>, checked: &Checked) {
    let Some(w) = app.window() else { return };
    let adapter = w.global::<SyncAdapter>();
    let Some(card) = checked.borrow_mut().take() else {
        return;
    };
    let dir = PathBuf::from(adapter.get_import_path().trim());
    set_outcome(&adapter, SyncOutcome::None, "");
    app.submit(Box::new(move |journal| {
        let result = journal.as_mut().ok_or(JournalError::Locked).and_then(|j| {
            stick_folder(&dir, "signed profiles")?;
            j.hand_over_into(&card, &dir)
        });
        Box::new(move |app: &Rc<App>| {
            let Some(w) = app.window() else { return };
            let adapter = w.global::<SyncAdapter>();
            clear(&adapter);
            match result {
                Ok(path) => {
                    adapter.set_can_hand_over(false);
                    adapter.set_handover_card("".into());
                    set_outcome(
                        &adapter,
                        SyncOutcome::HandedOver,
                        &path.display().to_string(),
                    );
                }
                Err(e) => set_outcome(&adapter, SyncOutcome::Error, &e.to_string()),
            }
        })
    }));
}
