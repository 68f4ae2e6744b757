//! Email: the outbox every message goes through, its templates, the worker that delivers it.
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::mail::*;

pub mod pages;
pub mod server_fns;
