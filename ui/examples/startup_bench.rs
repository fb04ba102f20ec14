//! Startup benchmark (a program, not a test): time from process start to the first rendered
//! frame of the GUI, and resident memory with a journal of 100,000 records.
//!
//! ```sh
//! cargo run --release -p truce --example startup_bench -- [--records N] [--dir DIR]
//! ```
//!
//! It fills a journal in a temporary folder (or DIR) through `Journal::record`, with a low key
//! derivation cost (`TRUCE_INSECURE_KDF_WORK_FACTOR`, 10 unless set), in a child process; then
//! starts a fresh child that builds the real window (`truce_ui::init`), renders it off-screen
//! with Slint's software renderer at 360×740, unlocks, renders the journal list, and reports:
//! process start → first frame (unlock screen), → journal list frame, and VmRSS / VmHWM from
//! /proc/self/status. Linux only (it reads /proc).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use i_slint_backend_testing::{
    AccessibleRole, ElementHandle, TestingBackend, TestingBackendOptions,
};
use slint::ComponentHandle;
use truce_core::{Journal, KdfCost, Profile};
use truce_ui::{self as gui, GuiOptions};

const PASSPHRASE: &str = "correct horse battery staple";

fn work_factor() -> KdfCost {
    let n = std::env::var(truce_core::keyfile::KDF_WORK_FACTOR_ENV)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    KdfCost::WorkFactor(n)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(dir) = value("--prepare") {
        let records = value("--records")
            .and_then(|n| n.parse().ok())
            .unwrap_or(100_000);
        prepare(Path::new(&dir), records);
        return;
    }
    if let Some(dir) = value("--measure") {
        measure(Path::new(&dir));
        return;
    }

    let records: u32 = value("--records")
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let temp = tempfile::tempdir().expect("a temporary folder");
    let dir = value("--dir")
        .map(PathBuf::from)
        .unwrap_or_else(|| temp.path().join("journal"));
    let me = std::env::current_exe().expect("this program");
    if !dir.join(truce_core::journal::KEY_FILE).exists() {
        let started = Instant::now();
        let status = Command::new(&me)
            .args(["--prepare", &dir.display().to_string()])
            .args(["--records", &records.to_string()])
            .status()
            .expect("run the filling child");
        assert!(status.success(), "filling the journal failed");
        eprintln!(
            "filled {} with {records} records in {:.1} s",
            dir.display(),
            started.elapsed().as_secs_f64()
        );
    }
    // Three fresh processes, one line each (the first also warms the page cache).
    for _ in 0..3 {
        let status = Command::new(&me)
            .args(["--measure", &dir.display().to_string()])
            .status()
            .expect("run the measuring child");
        assert!(status.success(), "the measuring child failed");
    }
}

fn prepare(dir: &Path, records: u32) {
    let mut journal = Journal::init(
        dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: "Bench".into(),
            team: Some("Team 0".into()),
            role: truce_sync::Role::Monitor,
        },
        work_factor(),
    )
    .expect("init");
    let kinds = [
        ("violation", "shelling"),
        ("violation", "small_arms"),
        ("incident", "mine_uxo"),
        ("movement_restriction", "monitor_obstruction"),
    ];
    for i in 0..records {
        let (kind, category) = kinds[i as usize % kinds.len()];
        let minutes = i64::from(i) * 7;
        let at = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00+02:00").expect("time")
            + chrono::Duration::minutes(minutes);
        let json = serde_json::json!({
            "kind": kind,
            "category": category,
            "method": "heard",
            "observed_at": at.to_rfc3339(),
            "lat": 48.0 + f64::from(i % 1000) / 10_000.0,
            "lon": 37.8,
            "place": format!("Checkpoint {}", i % 40),
            "event_count": i % 60,
            "severity": 1 + i % 5,
            "narrative": format!("Synthetic record {i}: explosions heard to the north, assessed mortar."),
        });
        let serde_json::Value::Object(map) = json else {
            unreachable!("an object literal")
        };
        journal.record(map).expect("record");
    }
}

/// Seconds since this process started, from /proc (clock ticks of 10 ms on Linux).
fn since_process_start() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Field 22 (starttime), counted after the ")" that ends the command name.
    let after = stat.rsplit_once(')')?.1;
    let start_ticks: f64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(uptime - start_ticks / 100.0)
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

fn frame(gui: &gui::Gui) {
    let shot = gui
        .window()
        .window()
        .take_snapshot()
        .expect("render a frame");
    assert!(shot.width() > 0 && shot.height() > 0);
}

fn measure(dir: &Path) {
    let main_entered = Instant::now();
    let before_main = since_process_start().unwrap_or(0.0);
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: false,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .expect("the software renderer");
    let gui = gui::init(GuiOptions {
        data_dir: dir.to_path_buf(),
        kdf_cost: work_factor(),
        auto_lock: gui::DEFAULT_AUTO_LOCK,
        dark: false,
        language: "en".into(),
        media_roots: Vec::new(),
        portal: false,
    })
    .expect("the window builds");
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(360.0, 740.0));
    gui.window().show().expect("show");
    frame(&gui);
    let first_frame = before_main + main_entered.elapsed().as_secs_f64();

    let unlock_started = Instant::now();
    ElementHandle::find_by_accessible_label(gui.window(), "Passphrase")
        .find(|e| e.accessible_role() == Some(AccessibleRole::TextInput))
        .expect(
            "the passphrase field, found by accessible label: a release build needs \
             SLINT_EMIT_DEBUG_INFO=1 when it is built (see docs/performance.md)",
        )
        .set_accessible_value(PASSPHRASE);
    ElementHandle::find_by_accessible_label(gui.window(), "Unlock")
        .find(|e| e.accessible_role() == Some(AccessibleRole::Button))
        .expect("the unlock button")
        .invoke_accessible_default_action();
    gui.settle();
    assert!(gui.is_unlocked(), "unlocked");
    frame(&gui);
    let list_frame = unlock_started.elapsed();
    let rows = gui.window().global::<gui::ui::JournalAdapter>().get_total();
    println!(
        "records {rows:>7} | process start → first frame {:>6.1} ms (of which before main {:>5.1} ms) | unlock → list frame {:>6.1} ms | VmRSS {:>6.1} MiB | VmHWM {:>6.1} MiB",
        first_frame * 1000.0,
        before_main * 1000.0,
        ms(list_frame),
        status_kib("VmRSS:") as f64 / 1024.0,
        status_kib("VmHWM:") as f64 / 1024.0,
    );
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
