//! GPU credit: compute resources, grants, their ledger and tranches, and the usage that comes
//! back; each change queues the sync of the allocation to the cluster (`crate::cluster`).
//!
//! Here: the rules, the entities and the read models; the wire types come from `wire` and
//! are re-exported, the pages are in `app`.
pub use wire::credits::*;

pub mod entity;
pub mod grants;
pub mod ledger;
pub mod ledger_table;
pub mod prices;
pub mod resources;
pub mod tranches;
pub mod usage;
