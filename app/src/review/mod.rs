//! Mentor review: assignments, the mentor's queue, rubric scores, conflicts of interest.
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::review::*;

pub mod list_pages;
pub mod pages;
pub mod server_fns;
