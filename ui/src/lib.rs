//! truce-ui, the GUI: wires the Slint markup in this folder to truce-core's use cases (todo-mvc pattern).
//!
//! The markup exports `XxxAdapter` globals; the adapters in this module are the only Rust code
//! that touches Slint-generated types. [`init`] builds and wires the window without running it,
//! so UI tests and the screenshot tool drive the very same window as `truce` does.
//!
//! Threads: the unlocked [`Journal`](truce_core::Journal) lives on one background thread
//! ([`worker`]); key derivation and every disk access run there, and their results come back
//! to the UI thread as replies. Locking (by hand or after inactivity) drops the journal there,
//! which zeroizes its keys, and clears every decrypted text from the window.

#[cfg(target_os = "android")]
pub mod android;
mod coordinator;
mod detail;
mod entry;
pub mod format;
mod journal_view;
mod queue;
mod session;
mod settings;
mod sync;
mod worker;

use std::cell::{Cell, RefCell};
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::time::Duration;

use slint::ComponentHandle;
use truce_sync::{ObservationRevision, Taxonomy};

use truce_core::journal::JournalPaths;
use truce_core::keyfile::KdfCost;

/// The Slint-generated types (`AppWindow`, the adapter globals and their structs). The
/// generator writes `todo!` in code paths for components Truce does not use.
#[allow(clippy::todo)]
pub mod ui {
    slint::include_modules!();
}

use ui::{AppAdapter, AppWindow, Screen};

/// Default inactivity before the journal locks itself.
pub const DEFAULT_AUTO_LOCK: Duration = Duration::from_secs(5 * 60);

/// How often an unfinished new-observation form is saved as the draft, when it changed.
pub const DRAFT_INTERVAL: Duration = Duration::from_secs(3);

/// How the GUI is set up.
#[derive(Debug, Clone)]
pub struct GuiOptions {
    /// The journal folder.
    pub data_dir: PathBuf,
    /// Key derivation cost for new key files (tests use a low work factor).
    pub kdf_cost: KdfCost,
    /// Inactivity before the journal locks itself.
    pub auto_lock: Duration,
    /// Start with the dark theme.
    pub dark: bool,
    /// "en" or "fr".
    pub language: String,
}

impl GuiOptions {
    /// The defaults for the journal in `data_dir`.
    pub fn new(data_dir: &Path) -> Self {
        GuiOptions {
            data_dir: data_dir.to_path_buf(),
            kdf_cost: KdfCost::Calibrated,
            auto_lock: DEFAULT_AUTO_LOCK,
            dark: false,
            language: language_from_env(),
        }
    }
}

/// "fr" when the environment asks for French (LANGUAGE, LC_ALL, LC_MESSAGES, LANG), else "en".
pub fn language_from_env() -> String {
    for var in ["LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"] {
        if let Ok(value) = std::env::var(var) {
            if value.is_empty() {
                continue;
            }
            return if value.starts_with("fr") { "fr" } else { "en" }.to_owned();
        }
    }
    "en".to_owned()
}

/// The wired window. Dropping it saves an unfinished form as the draft, ends the journal
/// thread and zeroizes the keys.
pub struct Gui {
    app: Rc<App>,
    window: AppWindow,
}

impl Gui {
    /// The window (for `slint::ComponentHandle` and the testing backend's element queries).
    pub fn window(&self) -> &AppWindow {
        &self.window
    }

    /// Waits until the background work (unlock, save, ...) is done and shown. The event loop
    /// does this by itself; tests and the screenshot tool, which run no event loop, call it.
    pub fn settle(&self) {
        self.app.worker.wait(&self.app);
    }

    /// Whether the journal is unlocked.
    pub fn is_unlocked(&self) -> bool {
        self.app.unlocked.get()
    }

    /// Locks now, as the auto-lock does.
    pub fn lock(&self) {
        self.app.lock();
    }

    /// Shows the window and runs the event loop until it is closed.
    pub fn run(self) -> Result<(), slint::PlatformError> {
        self.window.run()
    }
}

impl Drop for Gui {
    /// An unfinished form is saved as the draft before the journal thread ends.
    fn drop(&mut self) {
        entry::flush_draft(&self.app);
    }
}

/// Opens the GUI on the journal in `data_dir` and runs it until the window closes.
pub fn run(data_dir: &Path, kdf_cost: KdfCost) -> Result<(), slint::PlatformError> {
    let mut options = GuiOptions::new(data_dir);
    options.kdf_cost = kdf_cost;
    init(options)?.run()
}

thread_local! {
    /// The UI-thread state of every live GUI, for the worker's wake-ups.
    static APPS: RefCell<Vec<Weak<App>>> = const { RefCell::new(Vec::new()) };
}

/// Builds the window and wires every adapter, without running the event loop.
pub fn init(options: GuiOptions) -> Result<Gui, slint::PlatformError> {
    let window = AppWindow::new()?;
    window.global::<ui::Theme>().set_dark(options.dark);
    let worker = worker::Worker::start(|| {
        // Ask the UI thread to run the replies. Without an event loop (tests), `settle` does.
        let _ = slint::invoke_from_event_loop(|| {
            APPS.with(|apps| {
                let live: Vec<Rc<App>> = apps.borrow().iter().filter_map(Weak::upgrade).collect();
                for app in live {
                    app.drain();
                }
            });
        });
    });
    let app = Rc::new(App {
        ui: window.as_weak(),
        paths: JournalPaths::new(&options.data_dir),
        kdf_cost: options.kdf_cost,
        auto_lock: Cell::new(options.auto_lock),
        lock_timer: slint::Timer::default(),
        draft_timer: slint::Timer::default(),
        draft: RefCell::new(None),
        unlocked: Cell::new(false),
        busy_jobs: Cell::new(0),
        observations: Rc::new(RefCell::new(Vec::new())),
        taxonomy: Rc::new(RefCell::new(Taxonomy::builtin())),
        worker,
        journal_view: journal_view::JournalState::default(),
        detail: detail::DetailState::default(),
        queue: queue::QueueState::default(),
        coordinator: coordinator::CoordinatorState::default(),
        sync_profile_waiting: RefCell::new(None),
    });
    APPS.with(|apps| {
        let mut apps = apps.borrow_mut();
        apps.retain(|a| a.strong_count() > 0);
        apps.push(Rc::downgrade(&app));
    });

    let adapter = window.global::<AppAdapter>();
    adapter.on_activity(on_app(&app, |app| app.activity()));
    adapter.on_lock_now(on_app(&app, |app| app.lock()));
    adapter.on_go(on_app_with(&app, |app, screen: Screen| app.go(screen)));

    settings::set_language(&window, &options.language);
    session::connect(&window, &app);
    journal_view::connect(&window, &app);
    entry::connect(&window, &app);
    detail::connect(&window, &app);
    sync::connect(&window, &app);
    queue::connect(&window, &app);
    coordinator::connect(&window, &app);
    settings::connect(&window, &app, options.auto_lock);

    let first = if app.paths.key_file.exists() || app.paths.database.exists() {
        Screen::Unlock
    } else {
        Screen::Setup
    };
    adapter.set_screen(first);
    Ok(Gui { app, window })
}

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
    paths: JournalPaths,
    kdf_cost: KdfCost,
    auto_lock: Cell<Duration>,
    lock_timer: slint::Timer,
    /// Saves the new-observation form as the draft every few seconds when it changed.
    draft_timer: slint::Timer,
    /// The draft as last saved in the journal (decrypted; cleared on lock).
    draft: RefCell<Option<entry::Draft>>,
    unlocked: Cell<bool>,
    busy_jobs: Cell<usize>,
    /// The latest revision of every observation, newest first (decrypted; cleared on lock).
    observations: Rc<RefCell<Vec<ObservationRevision>>>,
    /// The taxonomy of the mission profile in force (the built-in one without a profile, and
    /// while locked): every screen's kinds and categories come from it.
    taxonomy: Rc<RefCell<Taxonomy>>,
    worker: worker::Worker,
    journal_view: journal_view::JournalState,
    detail: detail::DetailState,
    queue: queue::QueueState,
    coordinator: coordinator::CoordinatorState,
    /// A first mission profile read on the Sync screen, waiting for the user to confirm its
    /// signer's fingerprint (cleared on lock).
    sync_profile_waiting: RefCell<Option<String>>,
}

impl App {
    fn window(&self) -> Option<AppWindow> {
        self.ui.upgrade()
    }

    fn drain(self: &Rc<Self>) {
        self.worker.drain(self);
    }

    /// Queues work for the journal thread and shows the busy state until it replies.
    pub(crate) fn submit(self: &Rc<Self>, job: worker::Job) {
        self.busy_jobs.set(self.busy_jobs.get() + 1);
        self.worker.submit(Box::new(move |journal| {
            let reply = job(journal);
            Box::new(move |app: &Rc<App>| {
                app.busy_jobs.set(app.busy_jobs.get().saturating_sub(1));
                reply(app);
                app.update_busy();
            })
        }));
        self.update_busy();
    }

    /// Queues work for the journal thread without showing it (locking).
    pub(crate) fn submit_quiet(self: &Rc<Self>, job: worker::Job) {
        self.worker.submit(job);
    }

    fn update_busy(&self) {
        if let Some(w) = self.window() {
            w.global::<AppAdapter>().set_busy(self.busy_jobs.get() > 0);
        }
    }

    pub(crate) fn go(self: &Rc<Self>, screen: Screen) {
        if !self.unlocked.get() && !matches!(screen, Screen::Setup | Screen::Unlock) {
            return;
        }
        if let Some(w) = self.window() {
            let adapter = w.global::<AppAdapter>();
            if adapter.get_screen() == Screen::Entry && screen != Screen::Entry {
                entry::flush_draft(self);
            }
            if screen != Screen::Detail {
                w.global::<ui::JournalAdapter>().set_selected_id("".into());
            }
            adapter.set_screen(screen);
        }
        if screen == Screen::Sync {
            sync::open(self);
        }
        if screen == Screen::Journal {
            // Back to the list: badges and counts may have changed (an export, an amendment).
            if let Some(w) = self.window() {
                journal_view::refresh(&w, self);
            }
            queue::home(self);
        }
        coordinator::open(self, screen);
        self.activity();
    }

    /// A touch or a key press: the auto-lock countdown starts again.
    pub(crate) fn activity(&self) {
        if self.unlocked.get() {
            self.lock_timer.restart();
        }
    }

    /// The mission profile's taxonomy (after an unlock, or a profile installed): the form's,
    /// the journal's and the queue's choices, and the labels of rows shown from now on.
    pub(crate) fn set_taxonomy(self: &Rc<Self>, taxonomy: Taxonomy) {
        if *self.taxonomy.borrow() == taxonomy {
            return;
        }
        *self.taxonomy.borrow_mut() = taxonomy;
        if let Some(w) = self.window() {
            let taxonomy = self.taxonomy.borrow();
            entry::set_taxonomy(&w, &taxonomy);
            journal_view::set_taxonomy(&w, self, &taxonomy);
            queue::set_taxonomy(&w, &taxonomy);
        }
    }

    /// Called once the journal thread holds an unlocked journal.
    pub(crate) fn unlocked(self: &Rc<Self>) {
        self.unlocked.set(true);
        self.start_lock_timer();
        let weak = Rc::downgrade(self);
        self.draft_timer
            .start(slint::TimerMode::Repeated, DRAFT_INTERVAL, move || {
                if let Some(app) = weak.upgrade() {
                    entry::flush_draft(&app);
                }
            });
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

    /// Saves an unfinished form as the draft, then drops the journal (its keys are zeroized)
    /// and every decrypted text, and shows Unlock.
    pub(crate) fn lock(self: &Rc<Self>) {
        entry::flush_draft(self);
        self.lock_without_draft();
    }

    /// Locks without saving the form first (the emergency wipe).
    pub(crate) fn lock_without_draft(self: &Rc<Self>) {
        self.lock_timer.stop();
        self.draft_timer.stop();
        *self.draft.borrow_mut() = None;
        self.sync_profile_waiting.borrow_mut().take();
        self.set_taxonomy(Taxonomy::builtin());
        let was_unlocked = self.unlocked.replace(false);
        self.submit_quiet(Box::new(|journal| {
            *journal = None;
            Box::new(|_| {})
        }));
        self.observations.borrow_mut().clear();
        if let Some(w) = self.window() {
            journal_view::clear(&w, self);
            entry::clear(&w);
            detail::clear(&w, self);
            settings::clear(&w);
            sync::clear(&w);
            queue::clear(&w, self);
            coordinator::clear(&w, self);
            let adapter = w.global::<AppAdapter>();
            adapter.set_observer("".into());
            adapter.set_team("".into());
            if was_unlocked || adapter.get_screen() != Screen::Setup {
                adapter.set_screen(Screen::Unlock);
            }
        }
    }

    /// Puts a new or amended observation in its place in the in-memory list (the order of
    /// `Journal::list`: observed_at, then id, newest first), without reloading the journal.
    pub(crate) fn upsert_observation(self: &Rc<Self>, revision: ObservationRevision) {
        {
            let mut list = self.observations.borrow_mut();
            let key = revision.key();
            list.retain(|r| r.key() != key);
            let key = |r: &ObservationRevision| {
                (
                    r.observation.observed_at.timestamp_millis(),
                    r.observation.id,
                )
            };
            let new_key = key(&revision);
            let at = list.partition_point(|r| key(r) > new_key);
            list.insert(at, revision);
        }
        if let Some(w) = self.window() {
            journal_view::refresh(&w, self);
            settings::refresh_count(&w, self);
        }
        sync::refresh_pending(self);
    }

    /// Replaces the in-memory list after an unlock, and refreshes the views.
    pub(crate) fn set_observations(self: &Rc<Self>, list: Vec<ObservationRevision>) {
        *self.observations.borrow_mut() = list;
        if let Some(w) = self.window() {
            journal_view::refresh(&w, self);
            settings::refresh_count(&w, self);
        }
        sync::refresh_pending(self);
        queue::refresh(self);
    }
}
