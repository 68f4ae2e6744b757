//! Startups: the applicant's company profile and its team, and their incubation: residency,
//! mentors, milestones and notes.
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::startups::*;

pub mod figures_fns;
pub mod figures_pages;
pub mod incubation_fns;
pub mod incubation_pages;
pub mod pages;
pub mod server_fns;
