//! The GUI's one app state on the UI thread ([`App`]): the journal thread's handle, the session
//! (unlocked or not, monitor or coordinator), the mission profile's [`Vocabulary`], the
//! observation on screen and the coordinator's working preferences. Screens never call each
//! other: they change this state and [`notify`](App::notify) an [`Event`], to which the other
//! screens subscribe. It imports no screen.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use serde_json::{Map, Value};
use slint::ComponentHandle;
use truce_core::period::MissionZone;
use truce_sync::taxonomy::Code;
use truce_sync::verification::VerificationStatus;
use truce_sync::{ObservationRevision, Taxonomy};

use truce_core::coordination::preferences::Preferences;
use truce_core::journal::{Journal, JournalError, JournalPaths};
use truce_core::keyfile::KdfCost;

use crate::ui::{AppAdapter, AppWindow, Screen};
use crate::worker::{Job, Worker};

/// Default inactivity before the journal locks itself.
pub const DEFAULT_AUTO_LOCK: Duration = Duration::from_secs(5 * 60);

/// How often an unfinished new-observation form is saved as the draft, when it changed.
pub const DRAFT_INTERVAL: Duration = Duration::from_secs(3);

/// The codes and labels of the mission profile in force: kinds and categories (its taxonomy)
/// and the parties to the conflict. Every screen offers and shows these, never a built-in
/// list; without a profile (and while locked) they are the built-in taxonomy and no parties.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Vocabulary {
    pub taxonomy: Taxonomy,
    pub parties: Vec<Code>,
    /// The mission's time zone: report periods, cut-offs and day filters are in it.
    pub zone: MissionZone,
}

impl Vocabulary {
    /// No mission profile: the built-in taxonomy, no parties.
    pub(crate) fn builtin() -> Vocabulary {
        Vocabulary {
            taxonomy: Taxonomy::builtin(),
            parties: Vec::new(),
            zone: MissionZone::Utc,
        }
    }
}

/// What the screens show of a journal just unlocked (or created).
pub(crate) struct Session {
    pub observer: String,
    pub team: Option<String>,
    pub device_id: String,
    pub fingerprint: String,
    pub coordinator: bool,
    /// The unfinished form kept in the journal: its members and its RFC 3339 saving time.
    pub draft: Option<(Map<String, Value>, String)>,
}

/// How the journal's records changed.
pub(crate) enum Change<'a> {
    /// Just unlocked: nothing is loaded yet.
    Opened,
    /// This device recorded or amended an observation (its latest revision).
    Saved(&'a ObservationRevision),
    /// Bundles were imported: other devices' records.
    Imported,
    /// A device was accepted: its records now count.
    DeviceAccepted,
}

/// What the screens tell each other, through [`App::notify`].
pub(crate) enum Event<'a> {
    /// Unsaved work is kept now: the draft timer, a screen change, before locking, and when
    /// the window closes.
    Flush,
    /// The journal is unlocked (after [`App::vocabulary`] and the role are set).
    Unlocked(&'a Session),
    /// The journal is locked: every decrypted text goes from the screens.
    Locked,
    /// The mission profile in force changed: [`App::vocabulary`].
    ProfileChanged,
    /// A screen is shown; `from` was shown before.
    Shown { from: Screen, to: Screen },
    /// The journal's records changed.
    JournalChanged(Change<'a>),
    /// The journal holds this many records.
    RecordCount(u64),
    /// Someone asked to see an observation (its revision key, or an id).
    Open(&'a str),
    /// The observation on screen changed: [`App::selected`].
    Selected,
    /// An observation (its revision key) has a new verification status.
    StatusChanged {
        id: &'a str,
        status: VerificationStatus,
    },
    /// The escalation alerts were counted.
    AlertCount(usize),
    /// The working preferences were read after an unlock: [`App::preferences`].
    PreferencesLoaded,
}

type Subscriber = Rc<dyn Fn(&Rc<App>, &Event<'_>)>;

/// A callback that runs `f` with the app while the app lives. Callbacks hold the app weakly, so
/// the window and the app never keep each other alive.
pub(crate) fn on_app(app: &Rc<App>, f: impl Fn(&Rc<App>) + 'static) -> impl Fn() + 'static {
    let weak = Rc::downgrade(app);
    move || {
        if let Some(app) = weak.upgrade() {
            f(&app);
        }
    }
}

/// [`on_app`] for a callback that takes one argument.
pub(crate) fn on_app_with<T>(
    app: &Rc<App>,
    f: impl Fn(&Rc<App>, T) + 'static,
) -> impl Fn(T) + 'static {
    let weak = Rc::downgrade(app);
    move |arg| {
        if let Some(app) = weak.upgrade() {
            f(&app, arg);
        }
    }
}

/// The GUI's state on the UI thread.
pub(crate) struct App {
    ui: slint::Weak<AppWindow>,
    pub paths: JournalPaths,
    pub kdf_cost: KdfCost,
    pub auto_lock: Cell<Duration>,
    lock_timer: slint::Timer,
    /// Saves the new-observation form as the draft every few seconds when it changed.
    draft_timer: slint::Timer,
    unlocked: Cell<bool>,
    coordinator: Cell<bool>,
    busy_jobs: Cell<usize>,
    /// The mission profile's codes (the built-in ones without a profile, and while locked).
    vocabulary: RefCell<Rc<Vocabulary>>,
    /// The observation on screen, its latest revision (decrypted; cleared on lock).
    selected: RefCell<Option<ObservationRevision>>,
    /// The coordinator's working preferences as last loaded or saved (`None` until they are
    /// loaded after an unlock; cleared on lock).
    preferences: RefCell<Option<Preferences>>,
    pub worker: Worker<App>,
    subscribers: RefCell<Vec<Subscriber>>,
    /// Where removable media are mounted (see `GuiOptions::media_roots`).
    pub media_roots: RefCell<Vec<std::path::PathBuf>>,
    /// Whether to ask the desktop's file chooser first (see `GuiOptions::portal`).
    pub portal: Cell<bool>,
}

impl App {
    pub(crate) fn new(
        ui: slint::Weak<AppWindow>,
        paths: JournalPaths,
        kdf_cost: KdfCost,
        auto_lock: Duration,
        worker: Worker<App>,
    ) -> App {
        App {
            ui,
            paths,
            kdf_cost,
            auto_lock: Cell::new(auto_lock),
            lock_timer: slint::Timer::default(),
            draft_timer: slint::Timer::default(),
            unlocked: Cell::new(false),
            coordinator: Cell::new(false),
            busy_jobs: Cell::new(0),
            vocabulary: RefCell::new(Rc::new(Vocabulary::builtin())),
            selected: RefCell::new(None),
            preferences: RefCell::new(None),
            worker,
            subscribers: RefCell::new(Vec::new()),
            media_roots: RefCell::new(Vec::new()),
            portal: Cell::new(false),
        }
    }

    pub(crate) fn window(&self) -> Option<AppWindow> {
        self.ui.upgrade()
    }

    /// Runs the answers of the journal thread that have arrived.
    pub(crate) fn drain(self: &Rc<Self>) {
        self.worker.drain(self);
    }

    // ---- Notifications ----

    /// Calls `f` with every event from now on (in the order of subscription).
    pub(crate) fn subscribe(&self, f: impl Fn(&Rc<App>, &Event<'_>) + 'static) {
        self.subscribers.borrow_mut().push(Rc::new(f));
    }

    /// Tells every subscriber. A subscriber may notify in turn.
    pub(crate) fn notify(self: &Rc<Self>, event: Event<'_>) {
        let subscribers = self.subscribers.borrow().clone();
        for subscriber in subscribers {
            subscriber(self, &event);
        }
    }

    // ---- The journal thread ----

    /// Runs `job` on the journal thread and `then` with its result on the UI thread, showing
    /// the busy state meanwhile.
    pub(crate) fn submit_then<T: Send + 'static>(
        self: &Rc<Self>,
        job: impl FnOnce(&mut Option<Journal>) -> T + Send + 'static,
        then: impl FnOnce(&Rc<App>, T) + 'static,
    ) {
        self.busy_jobs.set(self.busy_jobs.get() + 1);
        self.worker.submit(job, move |app: &Rc<App>, result| {
            app.busy_jobs.set(app.busy_jobs.get().saturating_sub(1));
            then(app, result);
            app.update_busy();
        });
        self.update_busy();
    }

    /// [`App::submit_then`] without showing it (quiet reloads, saving settings, locking).
    pub(crate) fn submit_quiet_then<T: Send + 'static>(
        self: &Rc<Self>,
        job: impl FnOnce(&mut Option<Journal>) -> T + Send + 'static,
        then: impl FnOnce(&Rc<App>, T) + 'static,
    ) {
        self.worker.submit(job, then);
    }

    /// Queues work for the journal thread and shows the busy state until it replies.
    pub(crate) fn submit(self: &Rc<Self>, job: Job<App>) {
        self.submit_then(job, |app, reply| reply(app));
    }

    /// Queues work for the journal thread without showing it.
    pub(crate) fn submit_quiet(self: &Rc<Self>, job: Job<App>) {
        self.worker.submit_job(job);
    }

    fn update_busy(&self) {
        if let Some(w) = self.window() {
            w.global::<AppAdapter>().set_busy(self.busy_jobs.get() > 0);
        }
    }

    // ---- Navigation ----

    /// Shows `screen` (only Setup and Unlock while locked); leaving a screen keeps its unsaved
    /// work.
    pub(crate) fn go(self: &Rc<Self>, screen: Screen) {
        if !self.unlocked.get() && !matches!(screen, Screen::Setup | Screen::Unlock) {
            return;
        }
        if let Some(w) = self.window() {
            let adapter = w.global::<AppAdapter>();
            let from = adapter.get_screen();
            if from != screen {
                self.flush();
            }
            adapter.set_screen(screen);
            self.notify(Event::Shown { from, to: screen });
        }
        self.activity();
    }

    /// Asks for the observation `id` (a revision key) to be shown.
    pub(crate) fn open_observation(self: &Rc<Self>, id: &str) {
        self.notify(Event::Open(id));
    }

    /// The observation on screen.
    pub(crate) fn selected(&self) -> Option<ObservationRevision> {
        self.selected.borrow().clone()
    }

    /// Sets the observation on screen and says so.
    pub(crate) fn set_selected(self: &Rc<Self>, revision: Option<ObservationRevision>) {
        *self.selected.borrow_mut() = revision;
        self.notify(Event::Selected);
    }

    // ---- The session ----

    pub(crate) fn is_unlocked(&self) -> bool {
        self.unlocked.get()
    }

    /// Whether the unlocked journal is a coordinator's (the queue replaces the journal list).
    pub(crate) fn is_coordinator(&self) -> bool {
        self.coordinator.get()
    }

    /// Asks the desktop's file chooser for `what` on the journal thread (the chooser is modal:
    /// nothing else waits on the journal meanwhile), then `then` with its answer; without a
    /// portal (or with it turned off) the answer is an error saying so.
    pub(crate) fn choose(
        self: &Rc<Self>,
        what: crate::files::Choose,
        title: &str,
        then: impl FnOnce(&Rc<App>, Result<crate::files::Chosen, String>) + 'static,
    ) {
        if !self.portal.get() {
            then(self, Err("the system's file chooser is turned off".into()));
            return;
        }
        let title = title.to_owned();
        self.worker.submit(
            move |_| crate::files::choose_with_portal(what, &title),
            then,
        );
    }

    /// A touch or a key press: the auto-lock countdown starts again.
    pub(crate) fn activity(&self) {
        if self.unlocked.get() {
            self.lock_timer.restart();
        }
    }

    /// The mission profile's codes in force.
    pub(crate) fn vocabulary(&self) -> Rc<Vocabulary> {
        self.vocabulary.borrow().clone()
    }

    /// The mission profile's codes (after an unlock, or a profile installed): the form's, the
    /// journal's and the queue's choices, and the labels of rows shown from now on.
    pub(crate) fn set_vocabulary(self: &Rc<Self>, vocabulary: Vocabulary) {
        if **self.vocabulary.borrow() == vocabulary {
            return;
        }
        *self.vocabulary.borrow_mut() = Rc::new(vocabulary);
        self.notify(Event::ProfileChanged);
    }

    /// The journal thread holds the unlocked journal: show it, from the journal list.
    pub(crate) fn open_session(self: &Rc<Self>, session: Session, vocabulary: Vocabulary) {
        if let Some(w) = self.window() {
            let adapter = w.global::<AppAdapter>();
            adapter.set_observer(session.observer.as_str().into());
            adapter.set_team(session.team.clone().unwrap_or_default().into());
        }
        self.coordinator.set(session.coordinator);
        self.set_vocabulary(vocabulary);
        self.unlocked.set(true);
        self.start_lock_timer();
        let weak = Rc::downgrade(self);
        self.draft_timer
            .start(slint::TimerMode::Repeated, DRAFT_INTERVAL, move || {
                if let Some(app) = weak.upgrade() {
                    app.flush();
                }
            });
        self.notify(Event::Unlocked(&session));
        self.notify(Event::JournalChanged(Change::Opened));
        if let Some(w) = self.window() {
            w.global::<AppAdapter>().set_screen(Screen::Journal);
        }
    }

    pub(crate) fn start_lock_timer(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        self.lock_timer.start(
            slint::TimerMode::SingleShot,
            self.auto_lock.get(),
            move || {
                if let Some(app) = weak.upgrade() {
                    tracing::info!("auto-lock after inactivity");
                    app.lock();
                }
            },
        );
    }

    /// Keeps unsaved work now (the new-observation form becomes the draft).
    pub(crate) fn flush(self: &Rc<Self>) {
        self.notify(Event::Flush);
    }

    /// Saves an unfinished form as the draft, then drops the journal (its keys are zeroized)
    /// and every decrypted text, and shows Unlock.
    pub(crate) fn lock(self: &Rc<Self>) {
        self.flush();
        self.lock_without_draft();
    }

    /// Locks without saving the form first (the emergency wipe).
    pub(crate) fn lock_without_draft(self: &Rc<Self>) {
        self.lock_timer.stop();
        self.draft_timer.stop();
        self.set_vocabulary(Vocabulary::builtin());
        let was_unlocked = self.unlocked.replace(false);
        self.coordinator.set(false);
        self.submit_quiet(Box::new(|journal| {
            *journal = None;
            Box::new(|_| {})
        }));
        *self.selected.borrow_mut() = None;
        *self.preferences.borrow_mut() = None;
        self.notify(Event::Locked);
        if let Some(w) = self.window() {
            let adapter = w.global::<AppAdapter>();
            adapter.set_observer("".into());
            adapter.set_team("".into());
            if was_unlocked || adapter.get_screen() != Screen::Setup {
                adapter.set_screen(Screen::Unlock);
            }
        }
    }

    /// This device recorded or amended an observation (`revision`, its latest).
    pub(crate) fn saved(self: &Rc<Self>, revision: &ObservationRevision) {
        self.notify(Event::JournalChanged(Change::Saved(revision)));
    }

    // ---- The coordinator's working preferences ----

    /// The working preferences, once loaded after an unlock.
    pub(crate) fn preferences(&self) -> Option<Preferences> {
        self.preferences.borrow().clone()
    }

    /// Reads the working preferences from the journal, then says so. Unreadable preferences
    /// are not an error the coordinator can act on: the defaults are used and the unlock goes
    /// on.
    pub(crate) fn load_preferences(self: &Rc<Self>) {
        self.submit_then(
            |journal| {
                journal
                    .as_ref()
                    .ok_or(JournalError::Locked)
                    .and_then(Journal::preferences)
            },
            |app, result| {
                if !app.unlocked.get() {
                    return;
                }
                let prefs = result.unwrap_or_else(|e| {
                    tracing::warn!(
                        "the working preferences could not be read; using defaults: {e}"
                    );
                    Preferences::default()
                });
                *app.preferences.borrow_mut() = Some(prefs);
                app.notify(Event::PreferencesLoaded);
            },
        );
    }

    /// Changes the working preferences with `change` and, when that changed them, saves them in
    /// the journal. Does nothing before they were loaded (so defaults never overwrite them).
    pub(crate) fn remember(self: &Rc<Self>, change: impl FnOnce(&mut Preferences)) {
        let updated = {
            let mut current = self.preferences.borrow_mut();
            let Some(prefs) = current.as_mut() else {
                return;
            };
            let mut updated = prefs.clone();
            change(&mut updated);
            if updated == *prefs {
                return;
            }
            *prefs = updated.clone();
            updated
        };
        self.submit_quiet(Box::new(move |journal| {
            if let Some(j) = journal.as_mut() {
                if let Err(e) = j.save_preferences(&updated) {
                    tracing::warn!("the working preferences were not saved: {e}");
                }
            }
            Box::new(|_| {})
        }));
    }
}
