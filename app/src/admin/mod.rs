//! The park administrator's pages: the dashboard, the people who use Hatchery, and the audit
//! log of every change.
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::admin::*;

pub mod audit_pages;
pub mod overview_pages;
pub mod pages;
pub mod server_fns;
pub mod sponsor_pages;
pub mod token_pages;
