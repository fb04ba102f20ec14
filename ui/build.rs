//! Compiles the Slint markup in this folder into Rust; the generated types are used only by this crate's src/.

fn main() {
    // Element debug info lets the UI tests find controls by accessible label
    // (i-slint-backend-testing's ElementHandle); release builds leave it out, unless built with
    // SLINT_EMIT_DEBUG_INFO=1 (the release run of examples/startup_bench needs it).
    println!("cargo:rerun-if-env-changed=SLINT_EMIT_DEBUG_INFO");
    let debug_info = std::env::var("PROFILE").map_or(true, |p| p != "release")
        || std::env::var("SLINT_EMIT_DEBUG_INFO").is_ok_and(|v| v == "1");
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent".into())
        .with_debug_info(debug_info)
        // Files imported by the markup, the fonts in ui/fonts/ among them, go into the binary
        // (the default for Rust, spelt out so SLINT_EMBED_RESOURCES=false cannot turn them
        // into paths of this build machine).
        .embed_resources(slint_build::EmbedResourcesKind::EmbedFiles)
        // Translations are plain gettext catalogues, ui/translations/<lang>/LC_MESSAGES/truce-ui.po,
        // compiled into the binary; msgids carry no context.
        .with_bundled_translations("translations")
        .with_default_translation_context(slint_build::DefaultTranslationContext::None);
    slint_build::compile_with_config("main.slint", config)
        .expect("the Slint markup in ui/ compiles");
}
