//! Times in the reader's zone, as the pages read it.
pub use wire::time::*;

/// The zone of the person looking at the page (their own, else the park's); provided as context
/// by the app shell, from the request on the server and from the document in the browser.
pub fn use_zone() -> Zone {
    leptos::prelude::use_context::<Zone>().unwrap_or_default()
}
