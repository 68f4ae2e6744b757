//! GPU credit: compute resources, grants and their ledger, and the sync of every grant to the
//! cluster that enforces it (Slurm through slurmrestd, a published HTTP contract, or none).
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::credits::*;

pub mod backend;
pub mod entity;
pub mod grants;
pub mod ledger;
pub mod ledger_table;
pub mod members;
pub mod reconcile;
pub mod resources;
pub mod sync;
pub mod tranches;
pub mod usage;
