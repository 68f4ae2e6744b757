//! The user's language as the pages read it.
pub use wire::i18n::*;

/// The language of the page being rendered; provided as context by the app shell.
pub fn use_locale() -> Locale {
    leptos::prelude::use_context::<Locale>().unwrap_or_default()
}
