//! Benchmark program: Truce against its physical limit (bare SQLCipher) and against the plain
//! pipeline a user would build (sqlite3 | zstd | age, minisign). Prints a table, writes JSON.
//!
//! `cargo run --release -p truce-tests --bin bench -- --records 100000 --bundles 100`
//!
//! (`--import-child` is the bench's own child process: see `import_child`.)

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use age::secrecy::SecretString;
use anyhow::{bail, Context, Result};
use chrono::{DateTime, Duration as Days, FixedOffset};
use serde_json::{json, Map, Value};
use truce_core::model::ExportRange;
use truce_core::{Journal, KdfCost, Profile};
use truce_sync::Role;

/// A small deterministic generator, so every run uses the same observations.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    fn unit(&mut self) -> f64 {
        (self.next() % 1_000_000) as f64 / 1_000_000.0
    }
}

/// A realistic observation: what a monitor types in the field.
fn observation(rng: &mut Seeded, start: DateTime<FixedOffset>, i: u64) -> Map<String, Value> {
    let categories = [
        "shelling",
        "small_arms",
        "airstrike_drone",
        "armed_presence",
        "heavy_weapons_movement",
    ];
    let methods = ["heard", "seen", "seen_heard", "uav"];
    let places = [
        "2 km north of checkpoint 4",
        "east bank of the river",
        "outskirts of the village",
        "road to the bridge",
    ];
    let narratives = [
        "About 40 explosions heard north of the checkpoint, assessed 82mm mortar.",
        "Bursts of small arms fire to the north-east, 1-2 km.",
        "Drone hovering over the crossing for ten minutes.",
        "Two armoured vehicles moving west on the main road.",
    ];
    let at = start + Days::minutes((i * 7) as i64);
    let value = json!({
        "kind": "violation",
        "category": rng.pick(&categories),
        "method": rng.pick(&methods),
        "observed_at": at.to_rfc3339(),
        "lat": 48.0 + rng.unit(),
        "lon": 37.0 + rng.unit(),
        "accuracy_m": 10 + rng.next() % 50,
        "location_source": "gps",
        "place": rng.pick(&places),
        "event_count": 1 + rng.next() % 60,
        "count_approx": rng.next().is_multiple_of(2),
        "severity": 1 + rng.next() % 5,
        "narrative": rng.pick(&narratives),
    });
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

/// The mission profile's areas (two halves of the generated positions) and alert rules, so the
/// coordinator queries filter by area and the alerts have something to count.
fn mission_template() -> truce_sync::profile::MissionProfile {
    use truce_sync::profile::{AlertRule, Area, MissionProfile};
    let mut template = MissionProfile::new(
        "Bench",
        uuid::Uuid::nil(),
        chrono::Utc::now().fixed_offset(),
        Vec::new(),
    );
    template.areas = vec![
        Area {
            code: "north".into(),
            label: "North".into(),
            bbox: Some([37.0, 48.5, 38.0, 49.0]),
        },
        Area {
            code: "south".into(),
            label: "South".into(),
            bbox: Some([37.0, 48.0, 38.0, 48.5]),
        },
    ];
    template.alert_rules = vec![
        AlertRule {
            name: "Shelling".into(),
            kinds: vec!["violation".into()],
            categories: vec!["shelling".into()],
            area: None,
            window_hours: 24,
            threshold: 40,
            level: 3,
        },
        AlertRule {
            name: "Heavy weapons moving".into(),
            kinds: vec!["violation".into()],
            categories: vec!["heavy_weapons_movement".into()],
            area: None,
            window_hours: 12,
            threshold: 15,
            level: 2,
        },
    ];
    template
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

fn pass() -> SecretString {
    SecretString::from("benchmark passphrase".to_owned())
}

fn profile(observer: &str, role: Role) -> Profile {
    Profile {
        observer: observer.into(),
        team: None,
        role,
    }
}

/// p50 and p99 of a durable save of `n` records, in ms.
fn record_latency(dir: &Path, n: u64) -> Result<(f64, f64)> {
    let mut journal = Journal::init(
        dir,
        &pass(),
        profile("Bench", Role::Monitor),
        KdfCost::WorkFactor(10),
    )?;
    let mut rng = Seeded(42);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    let mut times = Vec::with_capacity(n as usize);
    for i in 0..n {
        let obs = observation(&mut rng, start, i);
        let t = Instant::now();
        journal.record(obs)?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
}

/// The page authentication of journals Truce creates (`keyfile::PageAuth`), so the bare
/// SQLCipher baselines pay for the same work per page.
const PAGE_AUTH: &str = "PRAGMA cipher_hmac_algorithm = HMAC_SHA256;";

/// The page size of a coordinator's journal (`keyfile::PageSize::Large`), for the import
/// baselines: like for like with what `truce import` writes into.
fn coordinator_pages() -> String {
    format!(
        "PRAGMA cipher_page_size = {};",
        truce_core::keyfile::PageSize::Large.bytes()
    )
}

/// p50 and p99 of a bare SQLCipher insert plus commit of the same row: the limit.
fn bare_latency(dir: &Path, n: u64) -> Result<(f64, f64)> {
    let conn = rusqlite::Connection::open(dir.join("bare.db"))?;
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; {PAGE_AUTH}",
        "ab".repeat(32)
    ))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;",
    )?;
    conn.execute_batch("CREATE TABLE obs (id TEXT PRIMARY KEY, body TEXT NOT NULL)")?;
    let mut rng = Seeded(42);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    let mut times = Vec::with_capacity(n as usize);
    for i in 0..n {
        let body = Value::Object(observation(&mut rng, start, i)).to_string();
        let t = Instant::now();
        conn.execute(
            "INSERT INTO obs (id, body) VALUES (?1, ?2)",
            (uuid::Uuid::now_v7().to_string(), body),
        )?;
        times.push(t.elapsed());
    }
    times.sort();
    Ok((percentile(&times, 0.5), percentile(&times, 0.99)))
}

/// Polls a child's VmHWM (peak resident memory) until it exits; returns (status ok, KiB, time).
fn run_measured(mut cmd: Command) -> Result<(bool, u64, Duration)> {
    let start = Instant::now();
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn()?;
    let status_path = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status_path) {
            if let Some(kib) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            {
                peak = peak.max(kib);
            }
        }
        if let Some(status) = child.try_wait()? {
            return Ok((status.success(), peak, start.elapsed()));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn truce_cmd(data_dir: &Path) -> Command {
    let mut cmd = Command::new(truce_tests::truce_bin());
    cmd.arg("--data-dir")
        .arg(data_dir)
        .env("TRUCE_PASSPHRASE", "benchmark passphrase")
        // Export and import write no key file; a release build refuses the test-only work factor.
        .env_remove(truce_core::keyfile::KDF_WORK_FACTOR_ENV);
    cmd
}

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
        || Command::new(tool)
            .arg("-v")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
}

struct Args {
    records: u64,
    bundles: u64,
    latency: u64,
    json: PathBuf,
    /// Keep the journals and bundles here (for profiling) instead of a deleted temp folder.
    keep: Option<PathBuf>,
    /// One-entry bundles imported eleven times for the re-import figure (0: skip it).
    reimport: u64,
    /// Photos attached for the attachment figures (0: skip them).
    attachments: u64,
    /// Size of each, in MB.
    attachment_mb: u64,
    /// 12-megapixel photos whose thumbnails are timed (0: skip them).
    thumbnails: u64,
    /// Megabytes of 5 MB photos exported and imported in one bundle (0: skip).
    media_mb: u64,
}

fn args() -> Result<Args> {
    let mut a = Args {
        records: 20_000,
        bundles: 20,
        latency: 2_000,
        json: PathBuf::from("target/bench.json"),
        keep: None,
        reimport: 10_000,
        attachments: 40,
        attachment_mb: 5,
        thumbnails: 10,
        media_mb: 1024,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().context("a value is missing after a flag");
        match flag.as_str() {
            "--records" => a.records = value()?.parse()?,
            "--bundles" => a.bundles = value()?.parse()?,
            "--latency-records" => a.latency = value()?.parse()?,
            "--json" => a.json = PathBuf::from(value()?),
            "--keep" => a.keep = Some(PathBuf::from(value()?)),
            "--reimport-bundles" => a.reimport = value()?.parse()?,
            "--attachments" => a.attachments = value()?.parse()?,
            "--attachment-mb" => a.attachment_mb = value()?.parse()?,
            "--thumbnails" => a.thumbnails = value()?.parse()?,
            "--media-mb" => a.media_mb = value()?.parse()?,
            other => bail!(
                "unknown flag {other}; use --records N --bundles B --latency-records N --reimport-bundles N --attachments N --attachment-mb MB --thumbnails N --media-mb MB --json FILE --keep DIR"
            ),
        }
    }
    if a.bundles == 0 || a.records < a.bundles {
        bail!("--records must be at least --bundles, and --bundles at least 1");
    }
    Ok(a)
}

/// `bench --import-child on|off DIR BUNDLES`: imports the bundles in BUNDLES into the
/// coordinator journal in DIR, with SQLCipher's memory security on or off, as `truce import`
/// does (the import, then the alerts); prints the seconds it took. A process of its own for
/// each setting, since SQLCipher's setting is for the whole process and cannot go back off.
fn import_child(mut it: impl Iterator<Item = String>) -> Result<()> {
    let on = match it.next().as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => bail!("--import-child on|off DIR BUNDLES"),
    };
    let dir = PathBuf::from(it.next().context("DIR")?);
    let bundles = PathBuf::from(it.next().context("BUNDLES")?);
    truce_core::set_memory_security(on);
    let t = Instant::now();
    let mut journal = Journal::open(&dir, &pass())?;
    let files = truce_core::exchange::bundle_files(&[bundles])?;
    let mut refused = 0;
    journal.import_bundles(&files, |reports| {
        refused += reports.iter().filter(|r| r.refused.is_some()).count();
    })?;
    journal.alerts()?;
    drop(journal);
    if refused > 0 {
        bail!("{refused} bundle(s) refused");
    }
    println!("{}", t.elapsed().as_secs_f64());
    Ok(())
}

/// Import seconds of a copy of `empty` (a coordinator journal with nothing imported), in a
/// child process with SQLCipher's memory security on or off.
fn import_with_memory_security(empty: &Path, usb: &Path, work: &Path, on: bool) -> Result<f64> {
    let dir = work.join(if on {
        "coordinator-ms-on"
    } else {
        "coordinator-ms-off"
    });
    std::fs::create_dir_all(&dir)?;
    truce_tests::copy_files(empty, &dir);
    let out = Command::new(std::env::current_exe()?)
        .arg("--import-child")
        .arg(if on { "on" } else { "off" })
        .arg(&dir)
        .arg(usb)
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        bail!(
            "the import with memory security {} failed",
            if on { "on" } else { "off" }
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().parse()?)
}

/// Seconds to change the passphrase of the journal in `dir` (to the same passphrase: the
/// database is re-encrypted with a new key all the same), and, as the floor for rewriting
/// every page once, seconds to copy its database file and flush the copy; and its size.
fn rekey_against_copy(dir: &Path, work: &Path) -> Result<(f64, f64, u64)> {
    let mut journal = Journal::open(dir, &pass())?;
    let t = Instant::now();
    journal.change_passphrase(&pass(), KdfCost::WorkFactor(10))?;
    let rekey = t.elapsed().as_secs_f64();
    drop(journal);
    let database = dir.join(truce_core::journal::DATABASE_FILE);
    let size = std::fs::metadata(&database)?.len();
    let copy = work.join("database-copy.db");
    let t = Instant::now();
    std::fs::copy(&database, &copy)?;
    std::fs::File::open(&copy)?.sync_all()?;
    let copied = t.elapsed().as_secs_f64();
    std::fs::remove_file(&copy)?;
    Ok((rekey, copied, size))
}

fn main() -> Result<()> {
    let mut raw = std::env::args().skip(1);
    if std::env::args().nth(1).as_deref() == Some("--import-child") {
        raw.next();
        return import_child(raw);
    }
    let args = args()?;
    // The `truce` binary the export and import run as, built (or found up to date) now rather
    // than after the device has recorded every observation.
    truce_tests::truce_bin();
    // A temp folder deleted at the end, or the --keep folder, left for profiling.
    let mut temp = None;
    let work: PathBuf = match &args.keep {
        Some(dir) => {
            std::fs::create_dir_all(dir)?;
            if std::fs::read_dir(dir)?.next().is_some() {
                bail!("--keep {}: the folder must be empty", dir.display());
            }
            dir.clone()
        }
        None => temp.insert(tempfile::tempdir()?).path().to_path_buf(),
    };
    let mut results = Map::new();
    let mut table: Vec<(String, String, String)> = Vec::new();

    // 1. Record latency.
    let (p50, p99) = record_latency(&work.as_path().join("latency"), args.latency)?;
    std::fs::create_dir_all(work.as_path().join("bare"))?;
    let (b50, b99) = bare_latency(&work.as_path().join("bare"), args.latency)?;
    table.push((
        "record p50 / p99 (ms)".into(),
        format!("{p50:.2} / {p99:.2}"),
        format!("{b50:.2} / {b99:.2} (bare SQLCipher)"),
    ));
    results.insert(
        "record_ms".into(),
        json!({"p50": p50, "p99": p99, "bare_p50": b50, "bare_p99": b99, "records": args.latency}),
    );

    // 1b. Attachments: a durable attach against stock `age -e` plus fsync of the same file, and
    // against the same bytes as a BLOB in SQLCipher; what they cost on disk; peak memory.
    if args.attachments > 0 {
        let figures = attachment_figures(work.as_path(), args.attachments, args.attachment_mb)?;
        table.extend(figures.0);
        results.insert("attachments".into(), figures.1);
    }

    // 1c. Thumbnails of 12-megapixel photos, as the gallery's worker makes them, against
    // decoding and scaling the same file in the clear (no decryption, nothing kept).
    if args.thumbnails > 0 {
        let figures = thumbnail_figures(work.as_path(), args.thumbnails)?;
        table.push(figures.0);
        results.insert("thumbnails".into(), figures.1);
    }

    // 1d. A gigabyte of photos through export and import, against tar and age in a pipe.
    if args.media_mb > 0 {
        let figures = media_transfer_figures(work.as_path(), args.media_mb)?;
        table.extend(figures.0);
        results.insert("media_transfer".into(), figures.1);
    }

    // 2. A device with `records` observations, exported in `bundles` bundles.
    let device_dir = work.as_path().join("device");
    let coordinator_dir = work.as_path().join("coordinator");
    let usb = work.as_path().join("usb");
    std::fs::create_dir_all(&usb)?;
    let mut coordinator = Journal::init(
        &coordinator_dir,
        &pass(),
        profile("HQ", Role::Coordinator),
        KdfCost::WorkFactor(10),
    )?;
    let profile_text = coordinator.create_profile("Bench", &[], Some(mission_template()))?;
    let coordinator_key = work.join("coordinator-identity.txt");
    coordinator.export_coordinator_secret(&coordinator_key)?;
    let recipient = coordinator
        .keys()?
        .recipient
        .context("a coordinator has a recipient")?;
    drop(coordinator);
    // The coordinator as it is before any import, for the imports with and without memory
    // security.
    let empty_coordinator = work.as_path().join("coordinator-empty");
    std::fs::create_dir_all(&empty_coordinator)?;
    truce_tests::copy_files(&coordinator_dir, &empty_coordinator);
    let mut device = Journal::init(
        &device_dir,
        &pass(),
        profile("Bench", Role::Monitor),
        KdfCost::WorkFactor(10),
    )?;
    device.import_profile(&profile_text)?;
    let mut rng = Seeded(7);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    let per_bundle = args.records / args.bundles;
    let mut plain_bytes = 0u64;
    let mut export_time = Duration::ZERO;
    for b in 0..args.bundles {
        let n = if b + 1 == args.bundles {
            args.records - per_bundle * b
        } else {
            per_bundle
        };
        for i in 0..n {
            let obs = observation(&mut rng, start, b * per_bundle + i);
            plain_bytes += Value::Object(obs.clone()).to_string().len() as u64;
            device.record(obs)?;
        }
        let t = Instant::now();
        device.export(&usb, ExportRange::Pending)?;
        export_time += t.elapsed();
    }
    let bundle_bytes: u64 = std::fs::read_dir(&usb)?
        .filter_map(|e| e.ok()?.metadata().ok())
        .map(|m| m.len())
        .sum();
    let per_obs = bundle_bytes as f64 / args.records as f64;
    let export_rate = args.records as f64 / export_time.as_secs_f64();
    let export_mb = plain_bytes as f64 / 1e6 / export_time.as_secs_f64();
    drop(device);

    // The passphrase change of the device's journal: the whole database re-encrypted.
    let (rekey_s, copy_s, db_bytes) = rekey_against_copy(&device_dir, work.as_path())?;
    table.push((
        format!("passphrase change, {} records (s)", args.records),
        format!("{rekey_s:.2}"),
        format!(
            "{copy_s:.2} to copy the {:.1} MB database file and flush the copy",
            db_bytes as f64 / 1e6
        ),
    ));
    results.insert(
        "passphrase_change".into(),
        json!({"seconds": rekey_s, "copy_seconds": copy_s, "database_bytes": db_bytes, "records": args.records}),
    );

    // Peak memory of one export of everything, in a child process.
    let all_dir = work.as_path().join("all");
    std::fs::create_dir_all(&all_dir)?;
    let mut cmd = truce_cmd(&device_dir);
    cmd.args(["export", "--all", "--out"]).arg(&all_dir);
    let (ok, export_hwm, export_all_time) = run_measured(cmd)?;
    if !ok {
        bail!("truce export --all failed");
    }
    // Like for like with the plain pipeline: one stream of every record, process start included.
    let export_all_rate = args.records as f64 / export_all_time.as_secs_f64();
    let export_all_mb = plain_bytes as f64 / 1e6 / export_all_time.as_secs_f64();

    // The plain pipeline on an unencrypted copy of the same rows.
    let plain = plain_pipeline(work.as_path(), &device_dir, &recipient)?;
    let plain_import = plain_import(work.as_path(), &coordinator_key, args.records)?;
    table.push((
        "export, one bundle (obs/s, MB/s)".into(),
        format!("{export_all_rate:.0}, {export_all_mb:.1}"),
        plain.map_or(
            "n/a (sqlite3, zstd, age or minisign missing)".into(),
            |(rate, mb)| format!("{rate:.0}, {mb:.1} (sqlite3|zstd|age + minisign)"),
        ),
    ));
    table.push((
        format!("export, {} bundles (obs/s)", args.bundles),
        format!("{export_rate:.0}, {export_mb:.1}"),
        "each bundle written and synced to disk on its own".into(),
    ));
    table.push((
        "bundle bytes per observation".into(),
        format!("{per_obs:.0}"),
        "target ≤ 150".into(),
    ));
    table.push((
        "export peak memory (MiB)".into(),
        format!("{:.1}", export_hwm as f64 / 1024.0),
        format!("{} records in one bundle", args.records),
    ));
    results.insert(
        "export".into(),
        json!({"obs_per_s": export_all_rate, "mb_per_s": export_all_mb, "bundles_obs_per_s": export_rate, "bundles_mb_per_s": export_mb, "bundle_bytes_per_obs": per_obs, "peak_kib": export_hwm,
               "plain_obs_per_s": plain.map(|p| p.0), "plain_mb_per_s": plain.map(|p| p.1)}),
    );

    // 3. Import: the bundles into the coordinator, in a child process (peak memory), then the
    //    single all-in-one bundle into a fresh coordinator.
    let mut cmd = truce_cmd(&coordinator_dir);
    cmd.arg("import").arg(&usb);
    let (ok, import_hwm, import_time) = run_measured(cmd)?;
    if !ok {
        bail!("truce import failed");
    }
    let import_rate = args.records as f64 / import_time.as_secs_f64();
    let bare_rate = bare_bulk(work.as_path(), args.records)?;
    let schema_rate = schema_bulk(work.as_path(), args.records)?;
    table.push((
        "import (obs/s)".into(),
        format!("{import_rate:.0}"),
        format!("{bare_rate:.0} (bare SQLCipher bulk insert)"),
    ));
    table.push((
        String::new(),
        String::new(),
        format!("{schema_rate:.0} (the same, into Truce's two coordinator tables)"),
    ));
    table.push((
        String::new(),
        String::new(),
        plain_import.map_or("n/a (plain export missing)".into(), |rate| {
            format!("{rate:.0} (age -d | zstd -d | sqlite3, plain table)")
        }),
    ));
    table.push((
        "import peak memory (MiB)".into(),
        format!("{:.1}", import_hwm as f64 / 1024.0),
        format!("{} bundles", args.bundles),
    ));
    results.insert("import".into(), json!({"obs_per_s": import_rate, "peak_kib": import_hwm, "bare_obs_per_s": bare_rate, "schema_obs_per_s": schema_rate, "plain_obs_per_s": plain_import, "bundles": args.bundles}));

    // SQLCipher's memory security (freed memory wiped): the same import, in a process of its
    // own with it off, then on.
    let off_s = import_with_memory_security(&empty_coordinator, &usb, work.as_path(), false)?;
    let on_s = import_with_memory_security(&empty_coordinator, &usb, work.as_path(), true)?;
    let (off_rate, on_rate) = (args.records as f64 / off_s, args.records as f64 / on_s);
    let cost = (on_s / off_s - 1.0) * 100.0;
    table.push((
        "import, memory security on (obs/s)".into(),
        format!("{on_rate:.0}"),
        format!("{off_rate:.0} with it off: {cost:+.1}% time (in-process, no start-up)"),
    ));
    results.insert(
        "memory_security".into(),
        json!({"on_obs_per_s": on_rate, "off_obs_per_s": off_rate, "cost_percent": cost}),
    );

    // 5. Coordinator queries. The device is accepted first (its fingerprint checked), as a
    //    coordinator does before its records count; its records are swept into the alerts then.
    let mut coordinator = Journal::open(&coordinator_dir, &pass())?;
    for device in coordinator.devices()? {
        coordinator.accept_device(&device.device_id.to_string())?;
    }
    coordinator.alerts()?;
    let t = Instant::now();
    let queue = coordinator.query(&truce_core::model::ObservationFilter {
        limit: Some(100),
        ..Default::default()
    })?;
    let queue_ms = t.elapsed().as_secs_f64() * 1000.0;
    let day_from = start.timestamp_millis();
    let t = Instant::now();
    let day = coordinator.query(&truce_core::model::ObservationFilter {
        from_ms: Some(day_from),
        to_ms: Some(day_from + 86_400_000),
        ..Default::default()
    })?;
    let day_ms = t.elapsed().as_secs_f64() * 1000.0;
    let to = start.with_timezone(&chrono::Utc) + Days::days(2);
    let t = Instant::now();
    let report = coordinator.report(to - Days::days(1), to)?;
    let report_ms = t.elapsed().as_secs_f64() * 1000.0;
    // The coordinator's incident queue, as the GUI asks for it: a page of 200.
    let extra = truce_core::model::QueueExtra::default();
    let page = |filter: &truce_core::model::ObservationFilter,
                extra: &truce_core::model::QueueExtra|
     -> Result<(f64, usize)> {
        let t = Instant::now();
        let page = coordinator.queue_page(filter, extra, 0, 200)?;
        Ok((t.elapsed().as_secs_f64() * 1000.0, page.rows.len()))
    };
    let (queue_page_ms, _) = page(&truce_core::model::ObservationFilter::default(), &extra)?;
    let shelling = truce_core::model::ObservationFilter {
        categories: vec!["shelling".into()],
        statuses: vec![truce_sync::verification::VerificationStatus::Unverified],
        ..Default::default()
    };
    let (category_ms, category_rows) = page(&shelling, &extra)?;
    let north = truce_core::model::QueueExtra {
        area: Some("north".into()),
        party: None,
    };
    let (area_ms, area_rows) = page(&truce_core::model::ObservationFilter::default(), &north)?;
    let search = truce_core::model::ObservationFilter {
        text: Some("armoured".into()),
        ..Default::default()
    };
    let (search_ms, search_rows) = page(&search, &extra)?;
    let t = Instant::now();
    let devices = coordinator.devices()?;
    let devices_ms = t.elapsed().as_secs_f64() * 1000.0;
    let held: u64 = devices.iter().map(|d| d.entries).sum();
    if held != args.records {
        bail!(
            "the device list counts {held} entries, not {}",
            args.records
        );
    }
    // Escalation alerts: as the import left them (the Alerts screen opening), swept from the
    // start (what the first import paid), and after one more bundle of recent reports.
    let t = Instant::now();
    let alerts = coordinator.alerts()?;
    let alerts_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let afresh = coordinator.alerts_from_scratch()?;
    let scratch_ms = t.elapsed().as_secs_f64() * 1000.0;
    if afresh != alerts {
        bail!("the alerts kept by the import differ from the alerts evaluated afresh");
    }
    let more = 1000;
    let more_usb = work.as_path().join("usb-more");
    std::fs::create_dir_all(&more_usb)?;
    let mut device = Journal::open(&device_dir, &pass())?;
    for i in 0..more {
        device.record(observation(&mut rng, start, args.records + i))?;
    }
    let bundle = device
        .export(&more_usb, ExportRange::Pending)?
        .context("the device has new reports to export")?;
    drop(device);
    let imported = coordinator.import_bundle(&bundle.path)?;
    if let Some(why) = imported.refused {
        bail!("the extra bundle was refused: {why}");
    }
    let t = Instant::now();
    let (after_bundle, swept) = coordinator.alerts_swept()?;
    let after_bundle_ms = t.elapsed().as_secs_f64() * 1000.0;
    let swept = swept.context("the new reports are swept")?;
    if after_bundle != coordinator.alerts_from_scratch()? {
        bail!("the alerts resumed after one more bundle differ from the alerts evaluated afresh");
    }
    let queries = [
        (
            "open the queue, first 100 (ms)",
            queue_ms,
            format!("{} rows", queue.len()),
        ),
        (
            "incident queue, page of 200 (ms)",
            queue_page_ms,
            "no filter".to_string(),
        ),
        (
            "  category + status (ms)",
            category_ms,
            format!("{category_rows} rows: shelling, unverified"),
        ),
        (
            "  area (ms)",
            area_ms,
            format!("{area_rows} rows: north (bounding box)"),
        ),
        (
            "  narrative search (ms)",
            search_ms,
            format!("{search_rows} rows: \"armoured\""),
        ),
        ("filter one day (ms)", day_ms, format!("{} rows", day.len())),
        (
            "daily report (ms)",
            report_ms,
            format!("{} in period", report.total),
        ),
        (
            "devices with their gaps (ms)",
            devices_ms,
            format!("{} device(s), {held} entries", devices.len()),
        ),
        (
            "escalation alerts, kept (ms)",
            alerts_ms,
            format!("{} alerts, 2 rules, as the import left them", alerts.len()),
        ),
        (
            "  after one more bundle (ms)",
            after_bundle_ms,
            format!(
                "{more} new reports; {} observations swept from a checkpoint",
                swept.observations
            ),
        ),
    ];
    for (what, ms, note) in &queries {
        table.push((
            (*what).into(),
            format!("{ms:.1}"),
            format!("{note}; target < 200 ms"),
        ));
    }
    table.push((
        "  swept from the start (ms)".into(),
        format!("{scratch_ms:.1}"),
        "what the first import paid, once; `truce check` pays it too".into(),
    ));
    results.insert(
        "queries_ms".into(),
        json!({"queue": queue_ms, "queue_page": queue_page_ms, "category_status": category_ms, "area": area_ms,
               "search": search_ms, "day": day_ms, "report": report_ms, "devices": devices_ms, "alerts": alerts_ms,
               "alerts_after_bundle": after_bundle_ms, "alerts_swept_after_bundle": swept.observations,
               "alerts_resumed": swept.resumed_from_ms.is_some(), "alerts_from_scratch": scratch_ms,
               "alerts_raised": alerts.len(), "records": args.records}),
    );

    // 6. Re-importing a stick: the same one-entry bundles again and again.
    if args.reimport > 0 {
        let (first, tenth) = reimport(work.as_path(), args.reimport)?;
        table.push((
            format!("re-import {} bundles, 10th time (ms)", args.reimport),
            format!("{tenth:.0}"),
            format!("{first:.0} (the 1st re-import of the same stick)"),
        ));
        results.insert(
            "reimport_ms".into(),
            json!({"bundles": args.reimport, "first": first, "tenth": tenth}),
        );
    }

    println!("{:<34} {:>18}   compared with", "measure", "Truce");
    for (what, truce, other) in &table {
        println!("{what:<34} {truce:>18}   {other}");
    }
    if let Some(parent) = args.json.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(
        &args.json,
        serde_json::to_string_pretty(&Value::Object(results))?,
    )?;
    println!("\nfigures written to {}", args.json.display());
    Ok(())
}

/// One line of the printed table: the measure, Truce's figure, the baselines.
type TableRow = (String, String, String);

/// A photo-like file of `bytes` bytes: JPEG magic bytes, then incompressible bytes from
/// `seed` (as a real photo's compressed data is).
fn photo_file(path: &Path, bytes: usize, seed: u64) -> Result<()> {
    let mut rng = Seeded(seed);
    let mut data = Vec::with_capacity(bytes);
    data.extend_from_slice(b"\xFF\xD8\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00");
    while data.len() < bytes {
        data.extend_from_slice(&rng.next().to_le_bytes());
    }
    data.truncate(bytes);
    std::fs::write(path, data)?;
    Ok(())
}

/// Export and import of `mb` megabytes of 5 MB photos (one per record) in one run, through
/// the `truce` binary (its time and peak memory), against `tar c | age -e` and
/// `age -d | tar x` of the same files in the same run.
fn media_transfer_figures(work: &Path, mb: u64) -> Result<(Vec<TableRow>, Value)> {
    if !(have("age") && have("age-keygen") && have("tar")) {
        bail!("the media transfer figures need age, age-keygen and tar");
    }
    let photos = work.join("media-photos");
    std::fs::create_dir_all(&photos)?;
    let hq_dir = work.join("media-hq");
    let device_dir = work.join("media-device");
    let mut hq = Journal::init(
        &hq_dir,
        &pass(),
        profile("HQ", Role::Coordinator),
        KdfCost::WorkFactor(10),
    )?;
    let profile_text = hq.create_profile("Media", &[], None)?;
    let hq_key = work.join("media-hq-identity.txt");
    hq.export_coordinator_secret(&hq_key)?;
    drop(hq);
    let mut device = Journal::init(
        &device_dir,
        &pass(),
        profile("Ana", Role::Monitor),
        KdfCost::WorkFactor(10),
    )?;
    device.import_profile(&profile_text)?;
    let count = (mb / 5).max(1);
    let mut rng = Seeded(31);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    for i in 0..count {
        let path = photos.join(format!("IMG_{i:05}.JPG"));
        photo_file(&path, 5_000_000, 5000 + i)?;
        device.record_with_attachments(
            observation(&mut rng, start, i),
            std::slice::from_ref(&path),
        )?;
    }
    drop(device);
    let media_bytes = count * 5_000_000;

    // Truce: export, then import at the coordinator.
    let usb = work.join("media-usb");
    std::fs::create_dir_all(&usb)?;
    let mut export = truce_cmd(&device_dir);
    export.arg("export").arg("--out").arg(&usb);
    let (ok, export_peak, export_time) = run_measured(export)?;
    if !ok {
        bail!("truce export of the photos failed");
    }
    let bundles = truce_core::exchange::bundle_files(std::slice::from_ref(&usb))?;
    let mut import = truce_cmd(&hq_dir);
    import.arg("import").args(&bundles);
    let (ok, import_peak, import_time) = run_measured(import)?;
    if !ok {
        bail!("truce import of the photos failed");
    }

    // Stock tools on the same files.
    let key = work.join("media-age-key.txt");
    let out = Command::new("age-keygen").arg("-o").arg(&key).output()?;
    let recipient = String::from_utf8_lossy(&out.stderr)
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_owned();
    let sealed = work.join("media-stock.tar.age");
    let t = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg("tar -cf - -C \"$1\" . | age -e -r \"$2\" -o \"$3\" && sync \"$3\"")
        .args(["sh"])
        .arg(&photos)
        .arg(&recipient)
        .arg(&sealed)
        .status()?;
    let stock_export = t.elapsed();
    if !status.success() {
        bail!("tar | age -e failed");
    }
    let unpacked = work.join("media-unpacked");
    std::fs::create_dir_all(&unpacked)?;
    let t = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg("age -d -i \"$1\" \"$2\" | tar -xf - -C \"$3\" && sync")
        .args(["sh"])
        .arg(&key)
        .arg(&sealed)
        .arg(&unpacked)
        .status()?;
    let stock_import = t.elapsed();
    if !status.success() {
        bail!("age -d | tar x failed");
    }
    let mib_s = |d: Duration| media_bytes as f64 / 1_048_576.0 / d.as_secs_f64();
    let table = vec![
        (
            format!("export {} MB of photos (MiB/s)", media_bytes / 1_000_000),
            format!("{:.0}", mib_s(export_time)),
            format!(
                "{:.0} (tar | age -e); {:.2}× it, target ≥ 0.8; peak {:.1} MiB, target ≤ 64",
                mib_s(stock_export),
                stock_export.as_secs_f64() / export_time.as_secs_f64(),
                export_peak as f64 / 1024.0
            ),
        ),
        (
            format!("import {} MB of photos (MiB/s)", media_bytes / 1_000_000),
            format!("{:.0}", mib_s(import_time)),
            format!(
                "{:.0} (age -d | tar x); {:.2}× it, target ≥ 0.8; peak {:.1} MiB, target ≤ 64",
                mib_s(stock_import),
                stock_import.as_secs_f64() / import_time.as_secs_f64(),
                import_peak as f64 / 1024.0
            ),
        ),
    ];
    let json = json!({"photos": count, "bytes": media_bytes,
        "export_s": export_time.as_secs_f64(), "stock_export_s": stock_export.as_secs_f64(),
        "export_peak_kib": export_peak,
        "import_s": import_time.as_secs_f64(), "stock_import_s": stock_import.as_secs_f64(),
        "import_peak_kib": import_peak, "bundles": bundles.len()});
    Ok((table, json))
}

/// The thumbnail figure: p50/p99 of `Journal::attachment_preview` (decrypt, decode within
/// limits, scale to 320 px, keep as JPEG in the journal) for `n` 12-megapixel JPEG photos,
/// against `image` decoding and scaling the same files in the clear.
fn thumbnail_figures(work: &Path, n: u64) -> Result<(TableRow, Value)> {
    let photos = work.join("thumbnail-photos");
    std::fs::create_dir_all(&photos)?;
    let mut journal = Journal::init(
        &work.join("thumbnails"),
        &pass(),
        profile("Bench", Role::Monitor),
        KdfCost::WorkFactor(10),
    )?;
    let mut rng = Seeded(21);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    let mut hashes = Vec::new();
    let mut files = Vec::new();
    for i in 0..n {
        let path = photos.join(format!("IMG_{i:04}.JPG"));
        let seed = i as u32;
        let image = image::RgbImage::from_fn(4000, 3000, |x, y| {
            let noise = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503) ^ seed) % 64;
            image::Rgb([
                ((x / 16) % 256) as u8 ^ noise as u8,
                ((y / 12) % 256) as u8,
                ((x + y) / 28 % 256) as u8,
            ])
        });
        image.save(&path)?;
        let saved = journal.record_with_attachments(
            observation(&mut rng, start, i),
            std::slice::from_ref(&path),
        )?;
        hashes.push(saved.observation.attachments[0].sha256.clone());
        files.push(path);
    }
    let mut truce = Vec::new();
    for sha in &hashes {
        let t = Instant::now();
        let preview = journal.attachment_preview(sha)?;
        truce.push(t.elapsed());
        if preview.thumbnail.is_none() {
            bail!("no thumbnail for {sha}: {:?}", preview.problem);
        }
    }
    truce.sort();
    let mut clear = Vec::new();
    for file in &files {
        let t = Instant::now();
        let thumb = image::open(file)?.thumbnail(320, 320);
        clear.push(t.elapsed());
        if thumb.width() != 320 {
            bail!("unexpected thumbnail width {}", thumb.width());
        }
    }
    clear.sort();
    let (t50, t99) = (percentile(&truce, 0.5), percentile(&truce, 0.99));
    let (c50, c99) = (percentile(&clear, 0.5), percentile(&clear, 0.99));
    Ok((
        (
            "thumbnail of a 12 MP JPEG p50 / p99 (ms)".into(),
            format!("{t50:.1} / {t99:.1}"),
            format!("{c50:.1} / {c99:.1} (image decode + scale of the clear file); target ≤ 300"),
        ),
        json!({"count": n, "truce_p50": t50, "truce_p99": t99, "clear_p50": c50, "clear_p99": c99}),
    ))
}

/// The attachment figures: p50/p99 of `truce`'s durable attach of `n` photos of `mb` MB each,
/// against `age -e` + fsync of the same files and against a BLOB insert in SQLCipher; the
/// bytes on disk over the media bytes; the peak memory of `truce record --attach` of one file
/// of 20 × `mb` MB.
fn attachment_figures(work: &Path, n: u64, mb: u64) -> Result<(Vec<TableRow>, Value)> {
    let dir = work.join("attach");
    let photos = work.join("photos");
    std::fs::create_dir_all(&photos)?;
    let bytes = usize::try_from(mb * 1_000_000)?;
    let files: Vec<PathBuf> = (0..n)
        .map(|i| {
            let path = photos.join(format!("IMG_{i:04}.JPG"));
            photo_file(&path, bytes, 1000 + i).map(|()| path)
        })
        .collect::<Result<_>>()?;
    let mut journal = Journal::init(
        &dir,
        &pass(),
        profile("Bench", Role::Monitor),
        KdfCost::WorkFactor(10),
    )?;
    let mut rng = Seeded(11);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    let mut truce = Vec::new();
    for (i, file) in files.iter().enumerate() {
        let obs = observation(&mut rng, start, i as u64);
        let t = Instant::now();
        journal.record_with_attachments(obs, std::slice::from_ref(file))?;
        truce.push(t.elapsed());
    }
    truce.sort();
    drop(journal);
    let on_disk: u64 = truce_tests::files_under(&dir)
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let media = n * bytes as u64;
    let overhead_pct = (on_disk as f64 - media as f64) / media as f64 * 100.0;

    // Stock age to a fresh X25519 recipient, then fsync: the floor for an encrypted, durable copy.
    let mut age_times = Vec::new();
    if have("age") && have("age-keygen") {
        let key = work.join("attach-age-key.txt");
        let out = Command::new("age-keygen").arg("-o").arg(&key).output()?;
        let recipient = String::from_utf8_lossy(&out.stderr)
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_owned();
        for (i, file) in files.iter().enumerate() {
            let sealed = work.join(format!("age-{i}.age"));
            let t = Instant::now();
            let status = Command::new("age")
                .args(["-e", "-r", &recipient, "-o"])
                .arg(&sealed)
                .arg(file)
                .status()?;
            std::fs::File::open(&sealed)?.sync_all()?;
            age_times.push(t.elapsed());
            if !status.success() {
                bail!("age -e failed");
            }
        }
        age_times.sort();
    }

    // The alternative store: the same bytes as one BLOB in SQLCipher (WAL, synchronous FULL).
    let blob_db = work.join("attach-blob.db");
    let conn = rusqlite::Connection::open(&blob_db)?;
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; {PAGE_AUTH}",
        "ab".repeat(32)
    ))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA temp_store = MEMORY;
         CREATE TABLE blob (sha BLOB PRIMARY KEY, data BLOB NOT NULL);",
    )?;
    let mut blob_times = Vec::new();
    for file in &files {
        let data = std::fs::read(file)?;
        let t = Instant::now();
        let sha = <sha2::Sha256 as sha2::Digest>::digest(&data);
        conn.execute(
            "INSERT INTO blob (sha, data) VALUES (?1, ?2)",
            (&sha[..], &data),
        )?;
        blob_times.push(t.elapsed());
    }
    blob_times.sort();
    drop(conn);
    let blob_size: u64 = ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", blob_db.display())).ok())
        .map(|m| m.len())
        .sum();
    let blob_overhead_pct = (blob_size as f64 - media as f64) / media as f64 * 100.0;

    // Peak memory of the command line attaching one large file.
    let big = photos.join("VID_large.JPG");
    photo_file(&big, bytes * 20, 99)?;
    let big_dir = work.join("attach-big");
    drop(Journal::init(
        &big_dir,
        &pass(),
        profile("Bench", Role::Monitor),
        KdfCost::WorkFactor(10),
    )?);
    let mut attach = truce_cmd(&big_dir);
    attach
        .args([
            "record",
            "--kind",
            "violation",
            "--category",
            "shelling",
            "--method",
            "camera",
            "--attach",
        ])
        .arg(&big);
    let (ok, peak_kib, _) = run_measured(attach)?;
    if !ok {
        bail!("truce record --attach of the large file failed");
    }

    let p = |t: &[Duration]| (percentile(t, 0.5), percentile(t, 0.99));
    let (t50, t99) = p(&truce);
    let (a50, a99) = p(&age_times);
    let (b50, b99) = p(&blob_times);
    let table = vec![
        (
            format!("attach {mb} MB photo p50 / p99 (ms)"),
            format!("{t50:.1} / {t99:.1}"),
            format!(
                "{a50:.1} / {a99:.1} (age -e + fsync); {b50:.1} / {b99:.1} (BLOB in SQLCipher)"
            ),
        ),
        (
            "attachments on disk over media (%)".into(),
            format!("{overhead_pct:.2}"),
            format!("{blob_overhead_pct:.2} (BLOB in SQLCipher, before checkpoint)"),
        ),
        (
            format!("attach {} MB, peak memory (MiB)", mb * 20),
            format!("{:.1}", peak_kib as f64 / 1024.0),
            "target ≤ 64".into(),
        ),
    ];
    let json = json!({"count": n, "mb": mb, "truce_p50": t50, "truce_p99": t99,
                      "age_p50": a50, "age_p99": a99, "blob_p50": b50, "blob_p99": b99,
                      "overhead_pct": overhead_pct, "blob_overhead_pct": blob_overhead_pct,
                      "peak_mib": peak_kib as f64 / 1024.0, "peak_file_mb": mb * 20});
    Ok((table, json))
}

/// A device's `n` one-entry bundles imported into a coordinator, then imported again ten
/// times: the milliseconds of the first and the tenth re-import. A bundle held already adds
/// nothing (no import row), and gaps are found once per device per run, so the tenth costs
/// what the first did.
fn reimport(work: &Path, n: u64) -> Result<(f64, f64)> {
    let dir = work.join("reimport");
    let usb = dir.join("usb");
    std::fs::create_dir_all(&usb)?;
    let mut coordinator = Journal::init(
        &dir.join("coordinator"),
        &pass(),
        profile("HQ", Role::Coordinator),
        KdfCost::WorkFactor(10),
    )?;
    let profile_text = coordinator.create_profile("Bench", &[], None)?;
    let mut device = Journal::init(
        &dir.join("device"),
        &pass(),
        profile("Stick", Role::Monitor),
        KdfCost::WorkFactor(10),
    )?;
    device.import_profile(&profile_text)?;
    let mut rng = Seeded(23);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    for i in 0..n {
        device.record(observation(&mut rng, start, i))?;
        device.export(&usb, ExportRange::Pending)?;
    }
    drop(device);
    let files = truce_core::exchange::bundle_files(&[usb])?;
    coordinator.import_bundles(&files, |_| {})?;
    let mut times = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        let mut not_held = 0;
        coordinator.import_bundles(&files, |reports| {
            not_held += reports.iter().filter(|r| !r.held_already).count();
        })?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if not_held > 0 {
            bail!("{not_held} bundles were not recognised as held already");
        }
    }
    Ok((times[0], times[9]))
}

/// sqlite3 -json | zstd | age -r, then minisign -S, on a plain copy of the device's records.
fn plain_pipeline(work: &Path, device_dir: &Path, recipient: &str) -> Result<Option<(f64, f64)>> {
    if !["sqlite3", "zstd", "age", "minisign"]
        .iter()
        .all(|t| have(t))
    {
        return Ok(None);
    }
    let journal = Journal::open(device_dir, &pass())?;
    let rows = journal.list(None)?;
    let plain_db = work.join("plain.db");
    let conn = rusqlite::Connection::open(&plain_db)?;
    conn.execute_batch("CREATE TABLE obs (id TEXT PRIMARY KEY, body TEXT NOT NULL);")?;
    let tx = conn.unchecked_transaction()?;
    let mut bytes = 0u64;
    for row in &rows {
        let body = serde_json::to_string(row)?;
        bytes += body.len() as u64;
        tx.execute(
            "INSERT INTO obs VALUES (?1, ?2)",
            (row.observation.id.to_string(), body),
        )?;
    }
    tx.commit()?;
    drop(conn);
    let key = work.join("minisign.key");
    let status = Command::new("minisign")
        .args(["-G", "-W", "-f", "-p"])
        .arg(work.join("minisign.pub"))
        .arg("-s")
        .arg(&key)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()?;
    if !status.success() {
        return Ok(None);
    }
    let out = work.join("plain.jsonl.zst.age");
    let t = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "sqlite3 {db} -json 'select body from obs' | zstd -q -c | age -r {recipient} > {out} && minisign -S -s {key} -m {out} >/dev/null",
            db = plain_db.display(),
            out = out.display(),
            key = key.display()
        ))
        .status()?;
    let elapsed = t.elapsed().as_secs_f64();
    if !status.success() {
        return Ok(None);
    }
    Ok(Some((
        rows.len() as f64 / elapsed,
        bytes as f64 / 1e6 / elapsed,
    )))
}

/// The plain pipeline's import: the file `plain_pipeline` wrote, decrypted with age, unpacked
/// with zstd into a file (sqlite3's readfile cannot read a pipe) and loaded by the stock sqlite3
/// client into an unencrypted table. Rows per second.
fn plain_import(work: &Path, identity: &Path, n: u64) -> Result<Option<f64>> {
    let file = work.join("plain.jsonl.zst.age");
    if !file.exists() {
        return Ok(None);
    }
    let db = work.join("plain-import.db");
    let t = Instant::now();
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "age -d -i {identity} {file} | zstd -d -q -c > {json} && sqlite3 {db} \"PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             CREATE TABLE obs (id TEXT PRIMARY KEY, body TEXT NOT NULL); \
             INSERT INTO obs SELECT (value->>'body')->>'id', value->>'body' FROM json_each(readfile('{json}'));\" >/dev/null",
            identity = identity.display(),
            file = file.display(),
            json = work.join("plain-import.json").display(),
            db = db.display()
        ))
        .status()?;
    let elapsed = t.elapsed().as_secs_f64();
    if !status.success() {
        bail!("the plain import pipeline failed");
    }
    let conn = rusqlite::Connection::open(&db)?;
    let rows: u64 = conn.query_row("SELECT count(*) FROM obs", [], |row| row.get(0))?;
    if rows != n {
        bail!("the plain import loaded {rows} rows, not {n}");
    }
    Ok(Some(n as f64 / elapsed))
}

/// Bulk insert of `n` rows in one transaction into a bare SQLCipher database, rows per second.
fn bare_bulk(work: &Path, n: u64) -> Result<f64> {
    let conn = rusqlite::Connection::open(work.join("bulk.db"))?;
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; {PAGE_AUTH} {}",
        "cd".repeat(32),
        coordinator_pages()
    ))?;
    conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; CREATE TABLE obs (id TEXT PRIMARY KEY, body TEXT NOT NULL);")?;
    let mut rng = Seeded(9);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    let bodies: Vec<String> = (0..n)
        .map(|i| Value::Object(observation(&mut rng, start, i)).to_string())
        .collect();
    let t = Instant::now();
    let tx = conn.unchecked_transaction()?;
    {
        let mut stmt = tx.prepare("INSERT INTO obs (id, body) VALUES (?1, ?2)")?;
        for body in &bodies {
            stmt.execute((uuid::Uuid::now_v7().to_string(), body))?;
        }
    }
    tx.commit()?;
    Ok(n as f64 / t.elapsed().as_secs_f64())
}

/// The same bulk insert into the coordinator's own tables (as the migrations up to 0010 leave
/// them): per observation, the revision with its query columns, and the received log entry
/// with its hashes (its metadata, which the revision gives back, not kept), in one
/// transaction. The floor for Truce's schema, with no JSON parsed, no hash checked and nothing
/// decrypted or decompressed.
fn schema_bulk(work: &Path, n: u64) -> Result<f64> {
    let conn = rusqlite::Connection::open(work.join("schema.db"))?;
    conn.execute_batch(&format!(
        "PRAGMA key = \"x'{}'\"; {PAGE_AUTH} {}",
        "ef".repeat(32),
        coordinator_pages()
    ))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
         CREATE TABLE received_entry (device_id TEXT NOT NULL, seq INTEGER NOT NULL CHECK (seq >= 1),
             prev_hash BLOB NOT NULL, hash BLOB NOT NULL, record TEXT, bundle_id TEXT NOT NULL,
             observation_id TEXT, revision INTEGER, PRIMARY KEY (device_id, seq)) WITHOUT ROWID;
         CREATE TABLE observation_revision (observation_id TEXT NOT NULL, revision INTEGER NOT NULL CHECK (revision >= 1),
             device_id TEXT NOT NULL, observer TEXT NOT NULL, recorded_at TEXT NOT NULL,
             observed_at_ms INTEGER NOT NULL, kind TEXT NOT NULL, category TEXT NOT NULL, body TEXT NOT NULL,
             lat REAL, lon REAL, area_place TEXT, PRIMARY KEY (observation_id, device_id, revision));
         CREATE INDEX observation_revision_for_alerts ON observation_revision
             (observed_at_ms, observation_id, device_id, revision, kind, category, lat, lon, area_place);",
    )?;
    let mut rng = Seeded(11);
    let start = DateTime::parse_from_rfc3339("2026-01-01T00:00:00+02:00")?;
    let device = uuid::Uuid::now_v7().to_string();
    #[allow(clippy::type_complexity)]
    let rows: Vec<(String, String, i64, String, Option<f64>, Option<f64>)> = (0..n)
        .map(|i| {
            let obs = observation(&mut rng, start, i);
            let at = (start + Days::minutes((i * 7) as i64)).timestamp_millis();
            let category = obs
                .get("category")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let (lat, lon) = (
                obs.get("lat").and_then(Value::as_f64),
                obs.get("lon").and_then(Value::as_f64),
            );
            let body = Value::Object(obs).to_string();
            (
                uuid::Uuid::now_v7().to_string(),
                body,
                at,
                category,
                lat,
                lon,
            )
        })
        .collect();
    let hash = [0xab_u8; 32];
    let bundle = uuid::Uuid::now_v7().to_string();
    let t = Instant::now();
    let tx = conn.unchecked_transaction()?;
    {
        let mut entry = tx.prepare(
            "INSERT INTO received_entry (device_id, seq, prev_hash, hash, record, bundle_id, observation_id, revision)
             VALUES (?1, ?2, ?3, ?4, NULL, ?5, ?6, 1)",
        )?;
        let mut revision = tx.prepare(
            "INSERT INTO observation_revision (observation_id, revision, device_id, observer, recorded_at, observed_at_ms, kind, category, body, lat, lon)
             VALUES (?1, 1, ?2, 'Bench', '2026-01-01T00:00:00+02:00', ?3, 'violation', ?4, ?5, ?6, ?7)",
        )?;
        for (seq, (id, body, at, category, lat, lon)) in rows.iter().enumerate() {
            revision.execute(rusqlite::params![id, device, at, category, body, lat, lon])?;
            entry.execute(rusqlite::params![
                device,
                seq as i64 + 1,
                &hash[..],
                &hash[..],
                bundle,
                id
            ])?;
        }
    }
    tx.commit()?;
    Ok(n as f64 / t.elapsed().as_secs_f64())
}
