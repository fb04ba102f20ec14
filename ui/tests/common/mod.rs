//! Helpers shared by the app's test binaries: test journals, and for the GUI tests, finding
//! controls by accessible label, tapping, typing, reading and checking touch-target sizes.

#![allow(dead_code)]

use age::secrecy::SecretString;
use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use slint::ComponentHandle;
use truce_core::{Journal, KdfCost, Profile};
use truce_ui::Gui;

/// Fast key derivation for test journals.
pub const FAST: KdfCost = KdfCost::WorkFactor(10);
/// The passphrase of every test journal.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// A new coordinator journal ("HQ desk") in `dir`.
pub fn new_coordinator(dir: &std::path::Path) -> Journal {
    new_journal_of(dir, "HQ desk", None, truce_sync::Role::Coordinator)
}

/// A new monitor journal ("Ana K." of "Team 3") in `dir`.
pub fn new_monitor(dir: &std::path::Path) -> Journal {
    new_journal_of(dir, "Ana K.", Some("Team 3"), truce_sync::Role::Monitor)
}

fn new_journal_of(
    dir: &std::path::Path,
    observer: &str,
    team: Option<&str>,
    role: truce_sync::Role,
) -> Journal {
    Journal::init(
        dir,
        &SecretString::from(PASSPHRASE.to_owned()),
        Profile {
            observer: observer.into(),
            team: team.map(Into::into),
            role,
        },
        FAST,
    )
    .expect("init a test journal")
}

pub fn labelled(gui: &Gui, label: &str, role: AccessibleRole) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(gui.window(), label)
        .filter(|e| e.accessible_role() == Some(role))
        .collect()
}

pub fn has(gui: &Gui, label: &str, role: AccessibleRole) -> bool {
    !labelled(gui, label, role).is_empty()
}

/// Taps the button or chip labelled `label` (exactly one must be on screen).
pub fn tap(gui: &Gui, label: &str) {
    let mut found = labelled(gui, label, AccessibleRole::Button);
    found.extend(labelled(gui, label, AccessibleRole::Checkbox));
    assert_eq!(
        found.len(),
        1,
        "expected one control labelled {label:?}, found {}",
        found.len()
    );
    found[0].invoke_accessible_default_action();
}

/// Types `text` into the field labelled `label`.
pub fn fill(gui: &Gui, label: &str, text: &str) {
    let found = labelled(gui, label, AccessibleRole::TextInput);
    assert_eq!(
        found.len(),
        1,
        "expected one text field labelled {label:?}, found {}",
        found.len()
    );
    found[0].set_accessible_value(text);
}

/// The accessible value of the text field labelled `label`.
pub fn value_of(gui: &Gui, label: &str) -> String {
    let found = labelled(gui, label, AccessibleRole::TextInput);
    assert_eq!(found.len(), 1, "expected one text field labelled {label:?}");
    found[0]
        .accessible_value()
        .map(|v| v.to_string())
        .unwrap_or_default()
}

/// Every accessible label on screen that contains `part`.
pub fn labels_containing(gui: &Gui, part: &str) -> Vec<String> {
    i_slint_backend_testing::ElementQuery::from_root(gui.window())
        .match_predicate({
            let part = part.to_owned();
            move |e| e.accessible_label().is_some_and(|l| l.contains(&part))
        })
        .find_all()
        .into_iter()
        .filter_map(|e| e.accessible_label().map(|l| l.to_string()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Every labelled button, chip and text field on screen is at least 48×48 px.
pub fn assert_touch_targets(gui: &Gui, screen: &str) {
    let controls = i_slint_backend_testing::ElementQuery::from_root(gui.window())
        .match_predicate(|e| {
            matches!(
                e.accessible_role(),
                Some(AccessibleRole::Button | AccessibleRole::Checkbox | AccessibleRole::TextInput)
            ) && e.accessible_label().is_some_and(|l| !l.is_empty())
        })
        .find_all();
    assert!(!controls.is_empty(), "{screen}: no controls found");
    assert_fits_width(gui, screen);
    for control in controls {
        let size = control.size();
        assert!(
            size.width >= 48.0 && size.height >= 48.0,
            "{screen}: {:?} is {}×{} px, smaller than a 48 px touch target",
            control.accessible_label(),
            size.width,
            size.height
        );
    }
}

/// Asserts that no block of `screen` (section, banner, hint, fact, field, button) reaches past
/// the window's right edge: on a phone, one wide element pushes every card off the screen
/// and makes the page scroll sideways.
pub fn assert_fits_width(gui: &Gui, screen: &str) {
    let width = gui.window().window().size().width as f32 / gui.window().window().scale_factor();
    let wide: Vec<String> = i_slint_backend_testing::ElementQuery::from_root(gui.window())
        .match_descendants()
        .match_predicate(move |e| {
            // The page's own blocks; a row of chips that scrolls sideways on purpose is not
            // one of them.
            let block = e.type_name().is_some_and(|t| {
                ["Section", "Banner", "Hint", "Fact", "TextField", "Button"].contains(&t.as_str())
            });
            let (x, w) = (e.absolute_position().x, e.size().width);
            block && w > 0.0 && x + w > width + 0.5
        })
        .find_all()
        .iter()
        .map(|e| {
            format!(
                "{} {:?} {:?} at x {} width {}",
                e.type_name().unwrap_or_default(),
                e.id(),
                e.accessible_label(),
                e.absolute_position().x,
                e.size().width
            )
        })
        .collect();
    assert!(
        wide.is_empty(),
        "{screen}: wider than the {width} px window:\n{}",
        wide.join("\n")
    );
}

/// Writes a real PNG photo of `width` × `height` (a gradient) at `path`, for the gallery.
pub fn write_png(path: &std::path::Path, width: u32, height: u32) {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().expect("PNG header");
        let data: Vec<u8> = (0..width * height)
            .flat_map(|i| {
                let (x, y) = (i % width, i / width);
                [(x * 255 / width) as u8, (y * 255 / height) as u8, 120]
            })
            .collect();
        writer.write_image_data(&data).expect("PNG data");
    }
    std::fs::write(path, bytes).expect("write the photo");
}
