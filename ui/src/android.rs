//! Android entry point (compiled only for `target_os = "android"`): hands the activity to Slint's
//! android-activity backend, then runs the same GUI as the desktop on a journal kept in the app's
//! private internal storage. Linked into an APK through `packaging/android/truce-android` (a
//! cdylib shell), so the desktop crate types stay unchanged; see `packaging/android/README.md`.

use std::path::PathBuf;

use truce_core::keyfile::KdfCost;

/// Folder, inside the app's private internal storage, that holds the journal.
const JOURNAL_DIR: &str = "journal";

/// Called by android-activity's NativeActivity glue on the app's main thread; returning ends
/// the activity. Failures are reported through `tracing`, which has no logcat subscriber yet
/// (see packaging/android/README.md), so they are currently silent.
#[no_mangle]
pub fn android_main(app: slint::android::AndroidApp) {
    truce_core::secure_memory::harden_process();
    let Some(dir) = journal_dir(&app) else {
        tracing::error!("Android gave no internal data path; cannot open the journal");
        return;
    };
    if let Err(e) = slint::android::init(app) {
        tracing::error!("cannot start the Slint Android backend: {e}");
        return;
    }
    if let Err(e) = crate::run(&dir, KdfCost::Calibrated) {
        tracing::error!("the window failed: {e}");
    }
}

/// `<internal data path>/journal` (`/data/data/org.truce.Truce/files/journal`): private to the
/// app and removed when it is uninstalled.
fn journal_dir(app: &slint::android::AndroidApp) -> Option<PathBuf> {
    app.internal_data_path().map(|p| p.join(JOURNAL_DIR))
}
