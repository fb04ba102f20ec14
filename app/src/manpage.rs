//! Man pages generated from the clap definition in `cli/` (roff, via clap_mangen): one page for
//! `truce` and one per subcommand (`truce-record.1`, `truce-profile-create.1`...). Driven by the
//! hidden `truce man` command, which the Debian package build runs; it passes the definition
//! in, so this module does not import the CLI that calls it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Manual section of every page: user commands.
const SECTION: &str = "1";

/// The `truce` command `root`, built so subcommands know their full names.
pub fn command(mut root: clap::Command) -> clap::Command {
    root.build();
    root
}

/// The roff of one command's page (its SUBCOMMANDS section lists the visible subcommands).
/// `date` goes in the footer; it must not be empty, or the `.TH` fields after it shift.
pub fn render(cmd: &clap::Command, date: &str) -> Result<Vec<u8>> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .section(SECTION)
        .date(date)
        .source(concat!("truce ", env!("CARGO_PKG_VERSION")))
        .manual("Truce Manual")
        .render(&mut roff)
        .context("cannot render the man page")?;
    Ok(roff)
}

/// Every page: (file name, roff), for `truce` and each visible subcommand, depth first.
pub fn pages(root: clap::Command, date: &str) -> Result<Vec<(String, Vec<u8>)>> {
    let mut out = Vec::new();
    collect(&command(root), date, &mut out)?;
    Ok(out)
}

fn collect(cmd: &clap::Command, date: &str, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
    let name = cmd.get_display_name().unwrap_or_else(|| cmd.get_name());
    out.push((format!("{name}.{SECTION}"), render(cmd, date)?));
    for sub in visible_subcommands(cmd) {
        collect(sub, date, out)?;
    }
    Ok(())
}

/// Subcommands a user is meant to see: not hidden ones (`man`), not clap's generated `help`.
pub fn visible_subcommands(cmd: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    cmd.get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
}

/// `truce man`: the top-level page on stdout, or with `out_dir` every page written there (the
/// written paths on stdout). `date` (YYYY-MM-DD) defaults to today in UTC.
pub fn run(root: clap::Command, out_dir: Option<&Path>, date: Option<&str>) -> Result<()> {
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let date = date
        .map(str::trim)
        .filter(|d| !d.is_empty())
        .unwrap_or(&today);
    let stdout = std::io::stdout();
    write_pages(root, out_dir, date, &mut stdout.lock())
}

/// `run`, printing to `out` instead of stdout.
pub fn write_pages(
    root: clap::Command,
    out_dir: Option<&Path>,
    date: &str,
    out: &mut dyn Write,
) -> Result<()> {
    match out_dir {
        None => out.write_all(&render(&command(root), date)?)?,
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create the folder {}", dir.display()))?;
            for (name, roff) in pages(root, date)? {
                let path: PathBuf = dir.join(&name);
                std::fs::write(&path, roff)
                    .with_context(|| format!("cannot write {}", path.display()))?;
                writeln!(out, "{}", path.display())?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn root() -> clap::Command {
        crate::cli::Cli::command()
    }

    const DATE: &str = "2026-11-25";

    fn text(roff: &[u8]) -> String {
        String::from_utf8(roff.to_vec()).expect("roff is UTF-8")
    }

    #[test]
    fn top_page_names_every_subcommand() {
        let cmd = command(root());
        let page = text(&render(&cmd, DATE).expect("renders"));
        // Every .TH field in place: title, section, date, source, manual (an empty date would
        // shift the last two, and man would print "General Commands Manual").
        let th = page
            .lines()
            .find(|l| l.starts_with(".TH "))
            .expect(".TH line");
        let source = concat!("\"truce ", env!("CARGO_PKG_VERSION"), "\" \"Truce Manual\"");
        assert!(th.starts_with(".TH truce 1 2026"), "{th}");
        assert!(th.ends_with(source), "{th}");
        let names: Vec<&str> = visible_subcommands(&cmd).map(|s| s.get_name()).collect();
        assert!(names.len() > 10, "too few subcommands: {names:?}");
        for name in names {
            // clap_mangen lists each subcommand as `truce-NAME(1)`; roff escapes hyphens.
            let escaped = name.replace('-', "\\-");
            assert!(
                page.contains(&format!("truce\\-{escaped}(1)")),
                "subcommand {name} is not on the truce(1) page"
            );
        }
        assert!(
            !page.contains("truce\\-man("),
            "the hidden man command is listed"
        );
    }

    #[test]
    fn one_page_per_visible_command_with_its_options() {
        let pages = pages(root(), DATE).expect("pages");
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        let cmd = command(root());
        let mut expected = 1;
        for sub in visible_subcommands(&cmd) {
            expected += 1 + visible_subcommands(sub).count();
            let file = format!("truce-{}.1", sub.get_name());
            assert!(
                names.contains(&file.as_str()),
                "{file} missing from {names:?}"
            );
        }
        assert_eq!(pages.len(), expected, "{names:?}");
        assert!(names.contains(&"truce-profile-create.1"), "{names:?}");
        let record = pages
            .iter()
            .find(|(n, _)| n == "truce-record.1")
            .map(|(_, roff)| text(roff))
            .expect("truce-record.1");
        for flag in ["\\-\\-kind", "\\-\\-narrative", "\\-\\-data\\-dir"] {
            assert!(record.contains(flag), "{flag} missing from truce-record.1");
        }
    }

    #[test]
    fn writes_the_pages_to_a_folder() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("man1");
        let mut listed = Vec::new();
        write_pages(root(), Some(&dir), DATE, &mut listed).expect("writes");
        let listed = text(&listed);
        let top = std::fs::read(dir.join("truce.1")).expect("truce.1 written");
        assert!(!top.is_empty());
        assert!(dir.join("truce-export-data.1").is_file());
        assert_eq!(
            listed.lines().count(),
            pages(root(), DATE).expect("pages").len(),
            "{listed}"
        );
        assert!(listed.lines().all(|l| Path::new(l).is_file()), "{listed}");

        let mut stdout_page = Vec::new();
        write_pages(root(), None, DATE, &mut stdout_page).expect("renders");
        assert_eq!(stdout_page, top, "stdout and truce.1 differ");
    }
}
