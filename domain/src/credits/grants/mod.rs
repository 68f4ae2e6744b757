//! Grants of GPU credit (admin): issue, adjust, suspend, resume, revoke, and expiry by a
//! scheduled pass. Each change writes its ledger entry, a sync job and an audit entry in one
//! transaction, and tells the startup's team by email.
//!
//! - `commands`: the changes, each in one transaction with its ledger entry, sync job and audit;
//! - `notify`: what the team is told, by email and on chat channels;
//! - `views`: the admin tables, the CSV export, a grant's detail and the grant form's options;
//! - `burn_down`: ledgers sampled into charts with forecasts, and a startup's credit.
mod burn_down;
mod commands;
mod notify;
mod views;

pub(crate) use burn_down::credit_of_startup;
pub use burn_down::{burn_down, my_credit};
pub use commands::{adjust, create, expire_due, record_usage, transition, GrantInput};
pub use notify::expiry_alerts;
pub(crate) use notify::tell_team;
pub use views::{csv, detail, form_options, list, PER_PAGE};
