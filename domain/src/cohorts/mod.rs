//! Talent-training cohorts: sessions, enrolment with a waitlist, attendance, completion and
//! certificates anyone can verify.
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::cohorts::*;

pub mod attendance;
pub mod commands;
pub mod enrolment;
pub mod entity;
pub mod training;
pub mod views;
