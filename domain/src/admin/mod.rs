//! The park administrator's pages: the dashboard, the people who use Hatchery, and the audit
//! log of every change.
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::admin::*;

pub mod audit_log;
pub mod dashboard;
pub mod entity;
pub mod overview;
pub mod sponsor_report;
pub mod tokens;
