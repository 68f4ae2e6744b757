//! GPU credit: compute resources, grants and their ledger, and the sync of every grant to the
//! cluster that enforces it (Slurm through slurmrestd, a published HTTP contract, or none).
//!
//! Here: the pages and the thin server functions that call `domain`; the wire types come
//! from `wire` and are re-exported.
pub use wire::credits::*;

pub mod pages;
pub mod server_fns;
