//! The APK's native library: links `truce-ui`, whose `#[no_mangle] android_main`
//! (ui/src/android.rs) android-activity calls when the activity starts. Nothing else lives here.

#[cfg(target_os = "android")]
pub use truce_ui::android::android_main;
