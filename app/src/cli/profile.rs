//! `truce profile create|import|show`: mission profiles (taxonomy, parties, areas, alert rules
//! and the coordinators' keys), signed by the coordinator.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::Value;
use truce_sync::profile::MissionProfile;

use super::input::read_limited;
use super::output::note;
use super::session::unlock;
use crate::terminal::terminal_line;

/// `truce profile ...`
#[derive(Debug, Args)]
pub struct ProfileArgs {
    #[command(subcommand)]
    action: ProfileCommand,
}

/// `truce profile ...`
#[derive(Debug, Subcommand)]
pub enum ProfileCommand {
    /// Coordinators: create and sign a mission profile naming you (and --recipient keys) as recipients.
    Create {
        /// The mission's name.
        #[arg(long)]
        mission: String,
        /// Where to write the profile file for the devices.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Another coordinator's age recipient (age1...), e.g. HQ. Repeat for more.
        #[arg(long = "recipient", value_name = "AGE_RECIPIENT")]
        recipients: Vec<String>,
        /// A JSON file with taxonomy, parties, areas, severity_ladder and alert_rules to use.
        #[arg(long, value_name = "FILE")]
        template: Option<PathBuf>,
    },
    /// Install a mission profile received from the coordinator.
    Import {
        /// The profile file.
        file: PathBuf,
    },
    /// Show the installed mission profile.
    Show,
}

/// Runs one profile action.
pub fn run(args: ProfileArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    match args.action {
        ProfileCommand::Create {
            mission,
            out: path,
            recipients,
            template,
        } => create(dir, &mission, &path, &recipients, template.as_deref(), out),
        ProfileCommand::Import { file } => import(dir, &file),
        ProfileCommand::Show => show(dir, out),
    }
}

fn create(
    dir: &Path,
    mission: &str,
    path: &Path,
    recipients: &[String],
    template: Option<&Path>,
    out: &mut impl Write,
) -> Result<()> {
    let template = match template {
        None => None,
        Some(t) => {
            let text = std::fs::read_to_string(t)
                .with_context(|| format!("cannot read {}", t.display()))?;
            Some(
                template_profile(&text)
                    .with_context(|| format!("{} is not a usable profile template", t.display()))?,
            )
        }
    };
    if path.exists() {
        bail!(
            "{} already exists; choose another --out file",
            path.display()
        );
    }
    let mut journal = unlock(dir)?;
    let text = journal.create_profile(mission, recipients, template)?;
    truce_core::fsutil::write_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(out, "{}", path.display())?;
    note!(
        "Signed mission profile written. Give it to every device: `truce profile import {}`.",
        path.display()
    );
    Ok(())
}

fn import(dir: &Path, file: &Path) -> Result<()> {
    let text = read_limited(
        file,
        truce_sync::profile::MAX_PROFILE_BYTES as u64,
        "mission profile",
    )?;
    let mut journal = unlock(dir)?;
    let check = journal.inspect_profile(&text)?;
    let profile = journal.import_profile(&text)?;
    note!(
        "Installed the mission profile for {} ({} coordinator recipient(s)), signed by coordinator key {}.",
        terminal_line(&profile.mission),
        profile.recipients.len(),
        check.signer_fingerprint
    );
    if check.first_install {
        note!(
            "This is the first profile on this device, so only you can vouch for its signer: check the fingerprint {} with your coordinator. Later profiles are accepted only from that key.",
            check.signer_fingerprint
        );
    }
    Ok(())
}

fn show(dir: &Path, out: &mut impl Write) -> Result<()> {
    let journal = unlock(dir)?;
    let Some(p) = journal.profile()? else {
        bail!("no mission profile installed; import one with `truce profile import FILE`");
    };
    writeln!(out, "mission:    {}", terminal_line(&p.profile.mission))?;
    writeln!(out, "issued:     {}", p.profile.issued_at.to_rfc3339())?;
    writeln!(
        out,
        "signed by:  {}",
        truce_sync::fingerprint(&p.signer_key)
    )?;
    for r in &p.profile.recipients {
        writeln!(out, "recipient:  {r}")?;
    }
    writeln!(out, "kinds:      {}", p.profile.taxonomy.kind_list())?;
    writeln!(out, "categories: {}", p.profile.taxonomy.category_list())?;
    writeln!(out, "alert rules: {}", p.profile.alert_rules.len())?;
    Ok(())
}

/// Reads a profile template: any subset of taxonomy, parties, areas, severity_ladder, alert_rules.
fn template_profile(text: &str) -> Result<MissionProfile> {
    let mut value: Value = serde_json::from_str(text)?;
    let base = serde_json::to_value(MissionProfile::new(
        "template",
        truce_core::journal::now(),
        vec![],
    ))?;
    if let (Value::Object(base), Value::Object(given)) = (&base, &mut value) {
        for (k, v) in base {
            given.entry(k.clone()).or_insert(v.clone());
        }
    }
    Ok(serde_json::from_value(value)?)
}
