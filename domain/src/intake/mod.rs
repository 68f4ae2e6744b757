//! Intake rounds, their rubrics, and applications from draft to decision.
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::intake::*;

pub mod applications;
pub mod entity;
pub mod rounds;
