//! Startups: the applicant's company profile and its team, and their incubation: residency,
//! mentors, milestones and notes.
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::startups::*;

pub mod access;
pub mod entity;
pub mod figures;
pub mod profiles;
pub mod team;
