//! What Hatchery's server and the browser both hold: the types that cross the wire (forms,
//! rows, states), the error every server function returns, the languages and their messages,
//! and time zones. Plain data and pure functions; no database and no Leptos.
rust_i18n::i18n!("locales", fallback = "en");

pub mod states;

pub mod error;
pub mod i18n;
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
