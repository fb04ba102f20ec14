//! `truce enrol --out DIR`: a monitor's device writes its enrolment request for the
//! coordinators, and shows the fingerprint its observer reads to them.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::output::note;
use super::session::unlock;

/// Flags of `truce enrol`.
#[derive(Debug, Args)]
pub struct EnrolArgs {
    /// The folder to write the request into (a stick for the coordinators); it must exist.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes the request and prints its path; the fingerprint goes to stderr with what to do.
pub fn run(args: EnrolArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    super::input::out_folder(&args.out)?;
    let journal = unlock(dir)?;
    let path = journal.write_enrolment_request(&args.out)?;
    writeln!(out, "{}", path.display())?;
    note!(
        "Enrolment request written. Give it to a coordinator and read them this device's fingerprint, in person or by radio: {}",
        journal.device().fingerprint
    );
    Ok(())
}
