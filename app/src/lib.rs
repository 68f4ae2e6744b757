//! Hatchery's web application: Leptos pages, components and the thin server functions that
//! call the rules in `domain` (server side only). The types both sides share come from `wire`.
#![recursion_limit = "256"]

pub mod components;
pub mod current_user;
pub use wire::error;
pub mod i18n;
pub mod islands;
pub mod shell;
pub mod tables;
pub mod time;

pub mod admin;
pub mod auth;
pub mod channels;
pub mod cohorts;
pub mod credits;
pub mod intake;
pub mod mail;
pub mod review;
pub mod settlement;
pub mod startups;

#[cfg(feature = "ssr")]
pub mod state;

pub use shell::{shell, App};

/// The browser's entry: pages are drawn on the server and stay as they are; only the
/// [`islands`] on a page come alive (the bundle holds nothing else).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
