//! Email: the outbox every message goes through, its templates, the worker that delivers it.
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::mail::*;

pub mod entity;
pub mod outbox;
pub mod templates;
mod transport;
pub use transport::Mailer;
