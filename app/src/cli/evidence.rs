//! `truce evidence`: a coordinator writes an observation's evidence package (originals, the
//! signed entries naming them, the device's key, the trail, and a README with the stock-tool
//! checks) into a new folder.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use clap::Args;

use super::output::note;
use super::session::unlock;
use super::show::observation_ref;

/// Flags of `truce evidence`.
#[derive(Debug, Args)]
pub struct EvidenceArgs {
    /// The observation id, or a unique beginning or end of it (as `list` shows); `ID@DEVICE`
    /// when several devices used the id.
    id: String,
    /// The new folder to write the package into (an existing one is refused).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Writes the package; prints its folder.
pub fn run(args: EvidenceArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    let id = observation_ref(args.id, None);
    let journal = unlock(dir)?;
    let package = journal.write_evidence_package(&id, &args.out)?;
    writeln!(out, "{}", package.folder.display())?;
    note!(
        "Wrote {} original(s) and the signed lines of {} bundle(s) to {}. README.txt there says how to check every hash and signature with sha256sum and openssl.",
        package.originals,
        package.signed_bundles,
        package.folder.display()
    );
    for sha in &package.without_signed_text {
        note!(
            "note: attachment {sha} came in a bundle imported before Truce kept signed texts; the package holds it, without the device's signature over the record naming it."
        );
    }
    note!("warning: the package is NOT encrypted. Keep it as you keep the evidence itself.");
    Ok(())
}
