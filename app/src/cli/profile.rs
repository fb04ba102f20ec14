//! `truce profile create|import|show`: mission profiles (taxonomy, parties, areas, alert rules
//! and the coordinators' keys), signed by the coordinator.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use serde_json::Value;
use truce_sync::profile::{CoordinatorCard, CoordinatorRole, MissionProfile};

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
        /// A regional office's card (`truce keys --card FILE` on its machine): it may sign
        /// receipts, and bundles are encrypted to it too. Repeat for more.
        #[arg(long = "coordinator", value_name = "CARD")]
        regional: Vec<PathBuf>,
        /// Another HQ coordinator's card. Repeat for more.
        #[arg(long = "hq", value_name = "CARD")]
        hq: Vec<PathBuf>,
        /// Purge after receipt: devices remove the records the coordinators confirmed, N days
        /// after the receipt (0: at once). Off without it.
        #[arg(long, value_name = "N")]
        purge_after_days: Option<u32>,
        /// Only devices a coordinator enrolled (`truce devices enrol`) count; bundles from
        /// others are quarantined.
        #[arg(long)]
        require_enrolment: bool,
    },
    /// Coordinators: hand the mission over to another coordinator (its `truce keys --card`):
    /// the profile again, naming that key as the successor. Give it to every device; the
    /// successor then installs it and issues the next profiles.
    Handover {
        /// The successor's card.
        #[arg(long, value_name = "CARD")]
        to: PathBuf,
        /// Where to write the profile file for the devices and the successor.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Install a mission profile received from the coordinator.
    Import {
        /// The profile file.
        file: PathBuf,
    },
    /// Show the installed mission profile.
    Show,
}

/// What `profile create` adds besides the template: the listed coordinators and the purge
/// policy.
struct Extras {
    cards: Vec<(CoordinatorCard, CoordinatorRole)>,
    purge: Option<truce_sync::profile::PurgePolicy>,
    require_enrolment: bool,
}

/// Runs one profile action.
pub fn run(args: ProfileArgs, dir: &Path, out: &mut impl Write) -> Result<()> {
    match args.action {
        ProfileCommand::Create {
            mission,
            out: path,
            recipients,
            template,
            regional,
            hq,
            purge_after_days,
            require_enrolment,
        } => {
            let mut cards = Vec::new();
            for (files, role) in [
                (&hq, CoordinatorRole::Hq),
                (&regional, CoordinatorRole::Regional),
            ] {
                for file in files {
                    let text = read_limited(file, 64 * 1024, "coordinator card")?;
                    let card = CoordinatorCard::parse(&text).with_context(|| {
                        format!("{} is not a usable coordinator card", file.display())
                    })?;
                    cards.push((card, role));
                }
            }
            let purge = purge_after_days
                .map(|after_receipt_days| truce_sync::profile::PurgePolicy { after_receipt_days });
            let extras = Extras {
                cards,
                purge,
                require_enrolment,
            };
            create(
                dir,
                &mission,
                &path,
                &recipients,
                template.as_deref(),
                &extras,
                out,
            )
        }
        ProfileCommand::Handover { to, out: path } => {
            let text = read_limited(&to, 64 * 1024, "coordinator card")?;
            let card = CoordinatorCard::parse(&text)
                .with_context(|| format!("{} is not a usable coordinator card", to.display()))?;
            if path.exists() {
                bail!(
                    "{} already exists; choose another --out file",
                    path.display()
                );
            }
            let mut journal = unlock(dir)?;
            let text = journal.hand_over(&card)?;
            truce_core::fsutil::write_atomic(&path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(out, "{}", path.display())?;
            let fingerprint = truce_sync::bundle::parse_device_key(&card.signing_key)
                .map(|k| truce_sync::fingerprint(&k))
                .unwrap_or_default();
            note!(
                "Hand-over to {} (key {fingerprint}) signed. Give {} to every device and to the successor; from the next profile on, devices accept the successor's profiles and receipts.",
                terminal_line(&card.name),
                path.display()
            );
            Ok(())
        }
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
    extras: &Extras,
    out: &mut impl Write,
) -> Result<()> {
    let purge = extras.purge;
    let template = match template {
        None if purge.is_some() => Some(template_profile("{}")?),
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
    let template = match template {
        None if extras.require_enrolment => Some(template_profile("{}")?),
        t => t,
    };
    let template = template.map(|mut t| {
        if purge.is_some() {
            t.set_purge(purge);
        }
        if extras.require_enrolment {
            t.set_enrolment(Some(truce_sync::profile::EnrolmentPolicy {
                required: true,
            }));
        }
        t
    });
    let mut journal = unlock(dir)?;
    let text = journal.create_profile_with(mission, recipients, template, &extras.cards)?;
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
    let profile = &p.profile;
    let codes = |codes: &[truce_sync::taxonomy::Code]| -> String {
        codes
            .iter()
            .map(|c| format!("{} ({})", c.code, c.label))
            .collect::<Vec<_>>()
            .join(", ")
    };
    writeln!(out, "mission:     {}", terminal_line(&profile.mission))?;
    if let (Some(id), Some(n)) = (profile.mission_id, profile.sequence) {
        writeln!(out, "mission id:  {id}")?;
        writeln!(out, "number:      {n} (format version {})", profile.version)?;
    } else {
        writeln!(out, "format:      version {}", profile.version)?;
    }
    writeln!(out, "issued:      {}", profile.issued_at.to_rfc3339())?;
    writeln!(
        out,
        "time zone:   {}{}",
        journal.mission_zone().name(),
        profile
            .reporting_day_ends
            .as_deref()
            .map(|t| format!(", reporting day ends at {}", terminal_line(t)))
            .unwrap_or_default()
    )?;
    writeln!(
        out,
        "signed by:   {}",
        truce_sync::fingerprint(&p.signer_key)
    )?;
    writeln!(out, "recipients (bundles are encrypted to each):")?;
    for r in &profile.recipients {
        writeln!(out, "  {}", terminal_line(r))?;
    }
    if let (Some(h), Some(key)) = (&profile.handover, profile.successor()) {
        writeln!(
            out,
            "hand-over:   to key {} from profile number {}",
            truce_sync::fingerprint(&key),
            h.effective_sequence
        )?;
    }
    if !profile.coordinators.is_empty() {
        writeln!(out, "coordinators (sign receipts):")?;
        for c in &profile.coordinators {
            let fingerprint = truce_sync::bundle::parse_device_key(&c.signing_key)
                .map(|k| truce_sync::fingerprint(&k))
                .unwrap_or_default();
            writeln!(
                out,
                "  {} ({}): {}, {fingerprint}",
                terminal_line(&c.name),
                terminal_line(&c.id),
                c.role.as_str()
            )?;
        }
    }
    writeln!(
        out,
        "kinds:       {}",
        terminal_line(&codes(&profile.taxonomy.kinds))
    )?;
    writeln!(
        out,
        "categories:  {}",
        terminal_line(&codes(&profile.taxonomy.categories))
    )?;
    if profile.parties.is_empty() {
        writeln!(
            out,
            "parties:     (none: initiator and target are free text)"
        )?;
    } else {
        writeln!(
            out,
            "parties:     {}",
            terminal_line(&codes(&profile.parties))
        )?;
    }
    if !profile.severity_ladder.is_empty() {
        writeln!(
            out,
            "severity:    {}",
            terminal_line(&codes(&profile.severity_ladder))
        )?;
    }
    writeln!(out, "areas:       {}", profile.areas.len())?;
    for area in &profile.areas {
        let bbox = area.bbox.map_or_else(
            || "no bounding box: records name it in `place`".to_owned(),
            |[w, s, e, n]| format!("lon {w} to {e}, lat {s} to {n}"),
        );
        writeln!(
            out,
            "  {} ({}): {bbox}",
            terminal_line(&area.code),
            terminal_line(&area.label)
        )?;
    }
    writeln!(out, "alert rules: {}", profile.alert_rules.len())?;
    for rule in &profile.alert_rules {
        let any = |list: &[String]| {
            if list.is_empty() {
                "any".to_owned()
            } else {
                list.join(", ")
            }
        };
        writeln!(
            out,
            "  {}: level {} when {} or more in {} h; kinds {}; categories {}; {}",
            terminal_line(&rule.name),
            rule.level,
            rule.threshold,
            rule.window_hours,
            terminal_line(&any(&rule.kinds)),
            terminal_line(&any(&rule.categories)),
            rule.area.as_deref().map_or_else(
                || "each area separately".to_owned(),
                |a| format!("area {}", terminal_line(a))
            )
        )?;
    }
    Ok(())
}

/// Reads a profile template: any subset of taxonomy, parties, areas, severity_ladder,
/// alert_rules, time_zone and reporting_day_ends.
fn template_profile(text: &str) -> Result<MissionProfile> {
    let mut value: Value = serde_json::from_str(text)?;
    let base = serde_json::to_value(MissionProfile::new(
        "template",
        uuid::Uuid::nil(),
        truce_core::journal::now(),
        vec![],
    ))?;
    if let (Value::Object(base), Value::Object(given)) = (&base, &mut value) {
        for (k, v) in base {
            given.entry(k.clone()).or_insert(v.clone());
        }
    }
    // Names the field at fault (`areas[0].bbox: invalid length 3`), not just the problem.
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        anyhow::anyhow!(
            "{}: {}. docs/profile-format.md shows every field with an example",
            if path == "." {
                "the template".to_owned()
            } else {
                format!("field `{path}`")
            },
            e.inner()
        )
    })
}
