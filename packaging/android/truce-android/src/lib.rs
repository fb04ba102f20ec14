//! The APK's native library: links the `truce` library, whose `#[no_mangle] android_main`
//! (app/src/android.rs) android-activity calls when the activity starts. Nothing else lives here.

#[cfg(target_os = "android")]
pub use truce::android::android_main;
