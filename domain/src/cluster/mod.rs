//! The cluster side of GPU credit: the allocation each startup should have on each compute
//! resource (its cap, from its grants; its members, from its team), queued as sync jobs and
//! applied through the resource's backend (Slurm's slurmrestd, the published HTTP contract, or
//! none); the members' cluster logins; and reconciliation, which compares the clusters with
//! the database and repairs drift.
//!
//! Below `startups` and `auth` in the order (`crate` top comment): a team or a login change
//! queues a sync here, and the grants (in `credits`, above) queue one with every change. It
//! reads grants and teams through their entities only. Its wire types are `wire::credits`'.
pub mod allocation;
pub mod backend;
pub mod members;
pub mod reconcile;
pub mod sync;
