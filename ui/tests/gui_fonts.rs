//! The UI's font, DejaVu Sans from ui/fonts/, is compiled into the binary: the window lays out
//! the same whatever fonts the machine has, and the embedded faces cover every character the
//! markup and its translations use, and the alphabets of the languages to come.

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::process::Command;

use age::secrecy::SecretString;
use i_slint_backend_testing::ElementQuery;
use slint::ComponentHandle;
use truce_core::Journal;
use truce_ui::{self as gui, Gui, GuiOptions};

/// The markup, its translations and its fonts.
const UI: &str = env!("CARGO_MANIFEST_DIR");
/// Set in the child process: the folder to lay the probe out in, and the file to write it to.
const PROBE_DIR: &str = "TRUCE_TEST_FONT_PROBE_DIR";
const PROBE_OUT: &str = "TRUCE_TEST_FONT_PROBE_OUT";
const LAYOUT_TEST: &str = "layout_is_the_same_when_the_system_has_only_dejavu_sans_bold";

const PHONE: (f32, f32) = (360.0, 740.0);
/// Tall enough that the whole settings screen is on screen, down to the wipe button.
const TALL: (f32, f32) = (360.0, 1800.0);

/// Lays the window out twice: here, with the machine's fonts, and in a child process whose
/// fontconfig offers one font only, DejaVu Sans *Bold*. With the embedded faces both runs set
/// every text in the same DejaVu Sans and agree to the hundredth of a pixel. Without them
/// (no `import` of the .ttf files, no `default-font-family`, or a system family preferred over
/// the embedded one of the same name), the child sets regular text in bold, which is wider:
/// chips grow, paragraphs wrap sooner, and the two layouts differ.
#[test]
fn layout_is_the_same_when_the_system_has_only_dejavu_sans_bold() {
    if let (Some(dir), Some(out)) = (std::env::var_os(PROBE_DIR), std::env::var_os(PROBE_OUT)) {
        // The child process.
        let layout = probe(Path::new(&dir));
        std::fs::write(out, layout.join("\n")).expect("write the layout for the parent");
        return;
    }

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("probe");
    // One journal for both runs, so that its device fingerprint and paths read the same.
    new_monitor(&dir.join("template"));
    let here = probe(&dir);
    assert!(here.len() > 40, "too few elements to compare: {here:#?}");

    let fonts = tmp.path().join("fonts");
    std::fs::create_dir_all(&fonts).expect("the font folder");
    std::fs::copy(
        Path::new(UI).join("fonts/DejaVuSans-Bold.ttf"),
        fonts.join("DejaVuSans-Bold.ttf"),
    )
    .expect("copy DejaVuSans-Bold.ttf");
    let config = tmp.path().join("fonts.conf");
    std::fs::write(
        &config,
        format!(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE fontconfig SYSTEM \"urn:fontconfig:fonts.dtd\">\n\
             <fontconfig>\n  <dir>{}</dir>\n  <cachedir>{}</cachedir>\n</fontconfig>\n",
            xml_text(&fonts),
            xml_text(&tmp.path().join("fontconfig-cache"))
        ),
    )
    .expect("write fonts.conf");
    let out = tmp.path().join("layout.txt");
    let child = Command::new(std::env::current_exe().expect("this test binary"))
        .args([LAYOUT_TEST, "--exact", "--test-threads=1"])
        .env("FONTCONFIG_FILE", &config)
        .env(PROBE_DIR, &dir)
        .env(PROBE_OUT, &out)
        .output()
        .expect("run the test binary again");
    assert!(
        child.status.success(),
        "the child run failed:\n{}\n{}",
        String::from_utf8_lossy(&child.stdout),
        String::from_utf8_lossy(&child.stderr)
    );
    let there: Vec<String> = std::fs::read_to_string(&out)
        .expect("the child's layout")
        .lines()
        .map(str::to_owned)
        .collect();

    let differences: Vec<String> = here
        .iter()
        .zip(&there)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("machine's fonts: {a}\nonly bold:       {b}"))
        .take(10)
        .collect();
    assert!(
        differences.is_empty() && here.len() == there.len(),
        "the layout depends on the system's fonts ({} elements here, {} in the child):\n{}",
        here.len(),
        there.len(),
        differences.join("\n")
    );
}

/// Every character of the markup and its translations, and the alphabets of the languages
/// Truce is to be translated into, has a glyph in both embedded faces: none is left to a system
/// fallback font, which would differ from machine to machine.
#[test]
fn the_embedded_faces_cover_the_ui_and_the_languages_to_come() {
    let mut text = String::new();
    collect_ui_text(Path::new(UI), &mut text);
    assert!(text.contains("@tr("), "no markup found under {UI}");
    let samples = [
        // Russian and Ukrainian.
        "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя ҐґЄєІіЇїʼ",
        // Spanish.
        "ÁÉÍÑÓÚÜáéíñóúü¡¿",
        // Arabic letters, diacritics, Arabic-Indic digits and punctuation.
        "ءآأؤإئابةتثجحخدذرزسشصضطظعغـفقكلمنهوىي ًٌٍَُِّْ ٠١٢٣٤٥٦٧٨٩ ،؛؟",
        // Symbols the Rust adapters write.
        "°≈·…→–—“”",
    ];
    for sample in samples {
        text.push_str(sample);
    }
    let wanted: std::collections::BTreeSet<char> = text
        .chars()
        .filter(|c| !c.is_control() && *c != ' ')
        .collect();
    for face in ["DejaVuSans.ttf", "DejaVuSans-Bold.ttf"] {
        let data = std::fs::read(Path::new(UI).join("fonts").join(face)).expect("the font file");
        let parsed = ttf_parser::Face::parse(&data, 0).expect("a TrueType font");
        let missing: String = wanted
            .iter()
            .filter(|c| parsed.glyph_index(**c).is_none())
            .collect();
        assert!(missing.is_empty(), "{face} has no glyph for {missing:?}");
    }
}

/// The accessible elements on the setup, journal and settings screens, one line each: role,
/// label, position and size.
fn probe(dir: &Path) -> Vec<String> {
    i_slint_backend_testing::init_no_event_loop();
    let mut lines = Vec::new();

    let setup = dir.join("setup");
    std::fs::create_dir_all(&setup).expect("the setup folder");
    let gui = start(&setup, PHONE);
    lines.extend(layout("setup", &gui));
    drop(gui);

    let journal = dir.join("journal");
    copy_dir(&dir.join("template"), &journal);
    {
        let mut opened = Journal::open(&journal, &SecretString::from(PASSPHRASE.to_owned()))
            .expect("open the journal");
        opened
            .record(
                truce_sync::parse_object(
                    r#"{"kind":"violation","category":"shelling","method":"heard",
                        "observed_at":"2026-11-24T05:30:00+03:00","place":"2 km north of checkpoint 4",
                        "narrative":"About 40 explosions heard north of checkpoint 4 between 05:30 and 06:10"}"#,
                )
                .expect("json"),
            )
            .expect("record");
    }
    let gui = start(&journal, PHONE);
    fill(&gui, "Passphrase", PASSPHRASE);
    tap(&gui, "Unlock");
    gui.settle();
    lines.extend(layout("journal", &gui));
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(TALL.0, TALL.1));
    tap(&gui, "Settings");
    gui.settle();
    lines.extend(layout("settings", &gui));
    drop(gui);

    for done in [setup, journal] {
        std::fs::remove_dir_all(&done).expect("clean up the probe");
    }
    lines
}

fn start(dir: &Path, (width, height): (f32, f32)) -> Gui {
    let gui = gui::init(GuiOptions {
        data_dir: dir.to_path_buf(),
        kdf_cost: FAST,
        auto_lock: gui::DEFAULT_AUTO_LOCK,
        dark: false,
        language: "en".into(),
        media_roots: Vec::new(),
        portal: false,
    })
    .expect("the window builds");
    gui.window()
        .window()
        .set_size(slint::LogicalSize::new(width, height));
    gui
}

fn layout(screen: &str, gui: &Gui) -> Vec<String> {
    ElementQuery::from_root(gui.window())
        .match_predicate(|e| e.accessible_label().is_some_and(|l| !l.is_empty()))
        .find_all()
        .into_iter()
        .map(|e| {
            let at = e.absolute_position();
            let size = e.size();
            format!(
                "{screen} {:?} {:?} at {:.2},{:.2} size {:.2}×{:.2}",
                e.accessible_role(),
                e.accessible_label().unwrap_or_default().as_str(),
                at.x,
                at.y,
                size.width,
                size.height
            )
        })
        .collect()
}

/// The .slint and .po files under `dir`, appended to `text`.
fn collect_ui_text(dir: &Path, text: &mut String) {
    for entry in std::fs::read_dir(dir).expect("read the ui folder") {
        let path = entry.expect("a folder entry").path();
        if path.is_dir() {
            collect_ui_text(&path, text);
        } else if path.extension().is_some_and(|e| e == "slint" || e == "po") {
            text.push_str(&std::fs::read_to_string(&path).expect("a UTF-8 ui file"));
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("read the journal folder") {
        let entry = entry.expect("a folder entry");
        let target: PathBuf = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a journal file");
        }
    }
}

/// `path` as XML character data.
fn xml_text(path: &Path) -> String {
    path.display()
        .to_string()
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
