//! Intake rounds, their rubrics, and applications from draft to decision.
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::intake::*;

pub mod pages;
pub mod round_pages;
pub mod server_fns;
