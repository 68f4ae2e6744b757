//! Settlement (issue 17): funding programmes (compute vouchers, 算力券) and the startups
//! enrolled in them.
//!
//! Here: the pages and the thin server functions that call `domain::settlement`; the wire
//! types come from `wire` and are re-exported.
pub use wire::settlement::*;

pub mod claim_pages;
pub mod pages;
pub mod server_fns;
pub mod statement_pages;
