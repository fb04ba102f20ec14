//! `truce export-data`: coordinators export observations to CSV, GeoJSON or HXL, or redacted
//! for publication.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::{Args, ValueEnum};
use truce_core::period::MissionZone;
use truce_core::publish::{DataFormat, PublicOptions};

use super::filter::{observation_filter, FilterArgs};
use super::output::note;
use super::session::unlock;

/// Flags of `truce export-data`.
#[derive(Debug, Args)]
pub struct ExportDataArgs {
    /// csv, geojson or hxl.
    #[arg(long, value_enum)]
    format: FormatArg,
    /// The file to write (replaced atomically).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// Redact for publication: no observer, device or team; narrative, place, weapon and
    /// parties not coded in the profile only when tagged `public`; coordinates on a grid;
    /// times to the hour, in UTC; only verified and corroborated records unless --status
    /// is given.
    #[arg(long)]
    public: bool,
    /// Grid size in degrees for --public.
    #[arg(long, default_value_t = 0.05, value_name = "DEGREES")]
    grid: f64,
    #[command(flatten)]
    filter: FilterArgs,
}

/// Formats of `truce export-data`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// CSV with schema v1 column names.
    Csv,
    /// A GeoJSON FeatureCollection.
    Geojson,
    /// CSV with an HXL hashtag row.
    Hxl,
}

/// Writes the file; prints its path.
pub fn run(args: ExportDataArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    // Checked before the passphrase is asked for; days are the mission's, known once unlocked.
    observation_filter(&args.filter, MissionZone::Utc)?;
    let journal = unlock(dir)?;
    let filter = observation_filter(&args.filter, journal.mission_zone())?;
    let format = match args.format {
        FormatArg::Csv => DataFormat::Csv,
        FormatArg::Geojson => DataFormat::GeoJson,
        FormatArg::Hxl => DataFormat::Hxl,
    };
    let public = args.public.then_some(PublicOptions {
        grid_deg: args.grid,
    });
    let rows = journal.export_data(format, &filter, public, &args.out)?;
    writeln!(out, "{}", args.out.display())?;
    note!("Wrote {rows} observation(s) to {}.", args.out.display());
    if args.public {
        note!(
            "Signed: {} (check it with `minisign -V -p truce.pub -m {}`; `truce keys` prints truce.pub).",
            truce_core::coordination::publication::signature_path(&args.out).display(),
            args.out.display()
        );
    }
    Ok(())
}
