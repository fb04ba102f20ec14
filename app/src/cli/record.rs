//! `truce record`: save one observation, from schema v1 JSON or the quick-entry flags.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;
use serde_json::{Map, Value};

use super::input::read_object;
use super::session::unlock;

/// Input for `truce record`.
#[derive(Debug, Args)]
pub struct RecordArgs {
    /// Read the observation JSON from FILE instead of stdin.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Quick entry: kind (violation, incident, movement_restriction, de_escalation, other).
    #[arg(long)]
    pub kind: Option<String>,
    /// Quick entry: category code (shelling, small_arms, ...).
    #[arg(long)]
    pub category: Option<String>,
    /// Quick entry: method (seen, heard, seen_heard, camera, uav, reported).
    #[arg(long)]
    pub method: Option<String>,
    /// Quick entry: when it started, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    pub observed_at: Option<String>,
    /// Quick entry: latitude in degrees (WGS84).
    #[arg(long, allow_hyphen_values = true)]
    pub lat: Option<f64>,
    /// Quick entry: longitude in degrees (WGS84).
    #[arg(long, allow_hyphen_values = true)]
    pub lon: Option<f64>,
    /// Quick entry: a named or described place.
    #[arg(long)]
    pub place: Option<String>,
    /// Quick entry: how many events (explosions, bursts, shots).
    #[arg(long, value_name = "N")]
    pub count: Option<u32>,
    /// Quick entry: the count is an estimate.
    #[arg(long)]
    pub approx: bool,
    /// Quick entry: severity on the mission's ladder, 1..5.
    #[arg(long)]
    pub severity: Option<u8>,
    /// Quick entry: free description.
    #[arg(long)]
    pub narrative: Option<String>,
    /// Attach a photo, recording, video or PDF (repeat for more): kept encrypted in the
    /// journal, named in the record by its SHA-256. The type is read from the content.
    #[arg(long = "attach", value_name = "FILE")]
    pub attach: Vec<PathBuf>,
}

impl RecordArgs {
    /// The quick-entry flags given, as schema v1 fields (input for the core's validation).
    fn quick_fields(&self) -> Map<String, Value> {
        let mut map = Map::new();
        let mut put = |k: &str, v: Option<Value>| {
            if let Some(v) = v {
                map.insert(k.to_owned(), v);
            }
        };
        put("kind", self.kind.clone().map(Value::from));
        put("category", self.category.clone().map(Value::from));
        put("method", self.method.clone().map(Value::from));
        put("observed_at", self.observed_at.clone().map(Value::from));
        put("lat", self.lat.map(Value::from));
        put("lon", self.lon.map(Value::from));
        put("place", self.place.clone().map(Value::from));
        put("event_count", self.count.map(Value::from));
        put("count_approx", self.approx.then_some(Value::Bool(true)));
        put("severity", self.severity.map(Value::from));
        put("narrative", self.narrative.clone().map(Value::from));
        map
    }
}

/// Saves the observation; prints only its new id.
pub fn run(args: RecordArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let quick = args.quick_fields();
    let mut input = if args.json.is_some() || quick.is_empty() {
        read_object(args.json.as_deref(), "observation")?
    } else {
        Map::new()
    };
    input.extend(quick);
    let mut journal = unlock(dir)?;
    let saved = if args.attach.is_empty() {
        journal.record(input)?
    } else {
        journal.record_with_attachments(input, &args.attach)?
    };
    writeln!(out, "{}", saved.observation.id)?;
    Ok(())
}
