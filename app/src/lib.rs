//! Hatchery's web application: Leptos pages, components and the thin server functions that
//! call the rules in `domain` (server side only). The types both sides share come from `wire`.
#![recursion_limit = "256"]

pub mod components;
pub mod current_user;
pub use wire::error;
pub mod i18n;
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
pub mod startups;

#[cfg(feature = "ssr")]
pub mod state;

pub use shell::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
