//! The architecture's invariants that the crate edges alone do not hold, checked on the sources:
//! no module imports one that imports it back, only the store speaks SQL, `truce-sync` knows
//! nothing of SQLite, Slint, the clock or the file system, and every source file says what it
//! is for.
//!
//! The scan is textual (paths after `crate::`, `super::` and `use`), which is enough for this
//! code base: it names modules by path and does not alias them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace root (this crate lives in `tests/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf()
}

/// The source roots of the workspace's crates, by crate.
const CRATES: [(&str, &str); 4] = [
    ("truce-core", "app/core/src"),
    ("truce", "app/src"),
    ("truce-ui", "ui/src"),
    ("truce-sync", "sync/src"),
];

/// A module path inside one crate (`["exchange", "import"]`; empty for the crate root).
type ModPath = Vec<String>;

/// Every `.rs` file under `src`, with its module path.
fn modules(src: &Path) -> BTreeMap<ModPath, PathBuf> {
    let mut out = BTreeMap::new();
    let mut folders = vec![src.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read a source folder") {
            let path = entry.expect("folder entry").path();
            if path.is_dir() {
                folders.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path
                .strip_prefix(src)
                .expect("under src")
                .with_extension("");
            let mut parts: ModPath = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(
                parts.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                parts.pop();
            }
            out.insert(parts, path);
        }
    }
    out
}

/// The file's text without its test modules (`#[cfg(test)]` then `mod`, to the end of the
/// file, where this code base keeps them).
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// Whether `module` is a test-only module (its own file, declared under `#[cfg(test)]`).
fn test_only(module: &ModPath) -> bool {
    matches!(module.last().map(String::as_str), Some("tests" | "testkit"))
}

/// The identifiers of a path written after `start` in `text` at `at`: `a::b::{c, d}` gives
/// `[a, b, c]` (the first name inside braces is enough to find the module).
fn path_after(text: &str, at: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = &text[at..];
    loop {
        rest = rest.trim_start_matches('{').trim_start();
        let end = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if end == 0 {
            break;
        }
        out.push(rest[..end].to_string());
        rest = &rest[end..];
        match rest.strip_prefix("::") {
            Some(r) => rest = r,
            None => break,
        }
    }
    out
}

/// The longest prefix of `path` that is a module of the crate.
fn resolve(path: &[String], known: &BTreeMap<ModPath, PathBuf>) -> Option<ModPath> {
    (0..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| known.contains_key(p))
}

/// Module A uses module B: a path through `crate::`, `super::` or `self::`, or a `use` of a
/// child module by name.
fn imports(known: &BTreeMap<ModPath, PathBuf>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut edges = BTreeMap::new();
    for (module, file) in known {
        let text = std::fs::read_to_string(file).expect("read a source file");
        let text = without_tests(&text);
        let mut to = BTreeSet::new();
        if !test_only(module) {
            for (prefix, base) in [
                ("crate::", Vec::new()),
                ("super::", module[..module.len().saturating_sub(1)].to_vec()),
                ("self::", module.clone()),
            ] {
                for (at, _) in text.match_indices(prefix) {
                    let before = text[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                        continue;
                    }
                    let mut path = base.clone();
                    path.extend(path_after(text, at + prefix.len()));
                    if let Some(target) = resolve(&path, known) {
                        to.insert(target);
                    }
                }
            }
            for line in text.lines() {
                let line = line.trim_start();
                let line = line
                    .strip_prefix("pub use ")
                    .or_else(|| line.strip_prefix("pub(crate) use "))
                    .or_else(|| line.strip_prefix("use "));
                if let Some(line) = line {
                    let first = path_after(line, 0);
                    if let Some(name) = first.first() {
                        let mut path = module.clone();
                        path.push(name.clone());
                        if known.contains_key(&path) {
                            to.insert(path);
                        }
                    }
                }
            }
        }
        to.remove(module);
        edges.insert(module.clone(), to);
    }
    edges
}

/// A module and the modules under it are one unit of the code map: an edge between a module
/// and its own ancestor or descendant is not an import between two modules.
fn between_units(from: &ModPath, to: &ModPath) -> bool {
    !(from.starts_with(to) || to.starts_with(from))
}

/// What the unit `unit` (the module and every module under it) imports outside itself.
fn unit_imports<'a>(
    edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
    unit: &'a ModPath,
) -> impl Iterator<Item = &'a ModPath> + 'a {
    edges
        .iter()
        .filter(move |(m, _)| m.starts_with(unit))
        .flat_map(|(_, to)| to)
        .filter(move |t| between_units(unit, t))
}

/// The cycles of the import graph between units, each as the unit and the first unit on the
/// way back to it.
fn cycles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<Vec<ModPath>> {
    let mut found = Vec::new();
    for unit in edges.keys() {
        for target in unit_imports(edges, unit) {
            let mut seen = BTreeSet::new();
            let mut stack = vec![target.clone()];
            let mut back = false;
            while let Some(u) = stack.pop() {
                for t in unit_imports(edges, &u) {
                    // Back inside `unit` closes a cycle; reaching its parent does not (the
                    // parent holds it, and that is the parent's own business).
                    if t.starts_with(unit) {
                        back = true;
                    }
                    if seen.insert(t.clone()) {
                        stack.push(t.clone());
                    }
                }
            }
            if back {
                found.push(vec![unit.clone(), target.clone()]);
            }
        }
    }
    found
}

fn name(crate_name: &str, module: &ModPath) -> String {
    if module.is_empty() {
        crate_name.to_string()
    } else {
        format!("{crate_name}::{}", module.join("::"))
    }
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let mut all = Vec::new();
    let mut counted = 0;
    for (crate_name, src) in CRATES {
        let known = modules(&root().join(src));
        counted += known.len();
        let edges = imports(&known);
        for pair in cycles(&edges) {
            all.push(format!(
                "{} -> {} -> ... -> back",
                name(crate_name, &pair[0]),
                name(crate_name, &pair[1])
            ));
        }
    }
    assert!(
        counted > 40,
        "found only {counted} modules: is the scan looking in the right place?"
    );
    assert!(all.is_empty(), "import cycles:\n{}", all.join("\n"));
}

/// The scan itself finds a cycle when there is one (so the test above can fail).
#[test]
fn the_cycle_scan_finds_a_planted_cycle() {
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path();
    std::fs::write(src.join("lib.rs"), "//! x\nmod a;\nmod b;\n").expect("lib");
    std::fs::write(src.join("a.rs"), "//! a\nuse crate::b::Thing;\n").expect("a");
    std::fs::create_dir(src.join("b")).expect("b/");
    std::fs::write(src.join("b/mod.rs"), "//! b\nmod c;\n").expect("b");
    std::fs::write(src.join("b/c.rs"), "//! c\nfn f() { crate::a::g() }\n").expect("c");
    let known = modules(src);
    let found = cycles(&imports(&known));
    let names: Vec<String> = found.iter().map(|p| name("x", &p[0])).collect();
    assert!(names.contains(&"x::a".to_string()), "{names:?}");
    // A child that names its parent is not a cycle.
    std::fs::write(src.join("b/c.rs"), "//! c\nuse super::Thing;\n").expect("c");
    assert!(cycles(&imports(&modules(src))).is_empty());
}

/// Lines of non-test code in `src` that contain any of `needles`, as `file:line: text`.
fn lines_with(src: &Path, needles: &[&str], skip: impl Fn(&ModPath) -> bool) -> Vec<String> {
    let mut out = Vec::new();
    for (module, file) in modules(src) {
        if skip(&module) || test_only(&module) {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read a source file");
        for (n, line) in without_tests(&text).lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if needles.iter().any(|needle| code.contains(needle)) {
                out.push(format!("{}:{}: {}", file.display(), n + 1, line.trim()));
            }
        }
    }
    out
}

#[test]
fn only_the_store_speaks_sql() {
    let root = root();
    let mut found = lines_with(&root.join("app/core/src"), &["rusqlite"], |m| {
        m.first().is_some_and(|f| f == "store")
    });
    for src in ["app/src", "ui/src", "sync/src"] {
        found.extend(lines_with(&root.join(src), &["rusqlite"], |_| false));
    }
    assert!(
        found.is_empty(),
        "SQLite outside app/core/src/store:\n{}",
        found.join("\n")
    );
}

#[test]
fn sync_knows_nothing_of_sqlite_slint_the_clock_or_the_file_system() {
    let found = lines_with(
        &root().join("sync/src"),
        &[
            "rusqlite",
            "slint",
            "std::fs",
            "File::",
            "Utc::now",
            "Local::now",
            "SystemTime",
            "Instant::now",
        ],
        |_| false,
    );
    assert!(
        found.is_empty(),
        "truce-sync reaches outside its layer:\n{}",
        found.join("\n")
    );
}

#[test]
fn only_the_ui_crate_touches_slint() {
    let root = root();
    let mut found = Vec::new();
    for src in ["app/core/src", "app/src", "sync/src"] {
        found.extend(lines_with(
            &root.join(src),
            &["slint::", "use slint"],
            |_| false,
        ));
    }
    assert!(found.is_empty(), "Slint outside ui/:\n{}", found.join("\n"));
}

#[test]
fn every_source_file_says_what_it_is_for() {
    let root = root();
    let mut missing = Vec::new();
    for folder in [
        "app/core/src",
        "app/core/tests",
        "app/src",
        "ui/src",
        "ui/tests",
        "ui/examples",
        "sync/src",
        "tests/src",
        "tests/tests",
    ] {
        for file in modules(&root.join(folder)).values() {
            let text = std::fs::read_to_string(file).expect("read a source file");
            if !text.starts_with("//!") {
                missing.push(file.display().to_string());
            }
        }
    }
    assert!(
        missing.is_empty(),
        "no `//!` first line:\n{}",
        missing.join("\n")
    );
}
