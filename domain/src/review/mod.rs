//! Mentor review: assignments, the mentor's queue, rubric scores, conflicts of interest.
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::review::*;

pub mod assignments;
pub mod conflicts;
pub mod decisions;
pub mod entity;
pub mod listing;
pub mod reviews;
pub mod scores;
