//! Talent-training cohorts: sessions, enrolment with a waitlist, attendance, completion and
//! certificates anyone can verify.
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::cohorts::*;

pub mod admin_pages;
pub mod pages;
pub mod server_fns;
