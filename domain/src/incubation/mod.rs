//! Incubation: a startup's residency in the park (admission to graduation), its mentors,
//! milestones and notes. Above credits: a milestone signed off releases its grant's tranche.
//!
//! Here: the rules; the wire types are `wire::startups::incubation`, the pages are in
//! `app/src/startups/` (`incubation_pages`, `incubation_fns`).
pub mod milestones;
pub mod residency;
pub mod views;
