//! truce-ui, the GUI: wires the Slint markup in this folder to truce-core's use cases (todo-mvc pattern).
//!
//! The markup exports `XxxAdapter` globals; the adapters in this crate are the only Rust code
//! that touches Slint-generated types. [`init`] builds and wires the window without running it,
//! so UI tests and the screenshot tool drive the very same window as `truce` does.
//!
//! Screens never import each other: each one changes the one app state (`state::App`) and
//! notifies an event the others subscribe to; row mapping shared by screens is in `rows`.
//!
//! Threads: the unlocked [`Journal`](truce_core::Journal) lives on one background thread
//! (`worker`); key derivation and every disk access run there, and their results come back
//! to the UI thread as replies. Locking (by hand or after inactivity) drops the journal there,
//! which zeroizes its keys, and clears every decrypted text from the window.

#[cfg(target_os = "android")]
pub mod android;
mod coordinator;
mod detail;
mod entry;
mod files;
pub mod format;
mod handover;
mod journal_view;
mod new_profile;
mod purge_setting;
mod queue;
mod rows;
mod session;
mod settings;
mod state;
mod sync;
pub mod ui;
mod worker;

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::time::Duration;

use slint::ComponentHandle;

use truce_core::journal::JournalPaths;
use truce_core::keyfile::KdfCost;

use state::{on_app, on_app_with, App};
use ui::{AppAdapter, AppWindow, Screen};

pub use state::{DEFAULT_AUTO_LOCK, DRAFT_INTERVAL};

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
    /// Where removable media are mounted, searched for a camera card's `DCIM/` ("From camera
    /// card"); by default `/media`, `/run/media`, `/mnt` and `/storage` where they exist.
    pub media_roots: Vec<PathBuf>,
    /// Ask the desktop's file chooser (XDG portal) first; tests and screenshots turn it off,
    /// which is also what a machine without a portal gets: the in-app picker.
    pub portal: bool,
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
            media_roots: truce_core::evidence::camera_card::default_media_roots(),
            portal: true,
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
        self.app.is_unlocked()
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
        self.app.flush();
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
    let app = Rc::new(App::new(
        window.as_weak(),
        JournalPaths::new(&options.data_dir),
        options.kdf_cost,
        options.auto_lock,
        worker,
    ));
    *app.media_roots.borrow_mut() = options.media_roots.clone();
    app.portal.set(options.portal);
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
    purge_setting::connect(&window, &app);

    let first = if app.paths.key_file.exists() || app.paths.database.exists() {
        Screen::Unlock
    } else {
        Screen::Setup
    };
    adapter.set_screen(first);
    Ok(Gui { app, window })
}
