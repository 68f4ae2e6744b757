//! Hatchery's web application: Leptos pages, server functions and the domain behind them.
#![recursion_limit = "256"]

rust_i18n::i18n!("locales", fallback = "en");

pub mod components;
pub mod error;
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
pub mod audit;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod txn;

pub use shell::{shell, App};

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(App);
}
