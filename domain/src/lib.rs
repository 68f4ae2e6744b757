//! Hatchery's rules: the entities, what may be done to them and by whom, the read models the
//! pages and the API show, and the queues that carry changes to the cluster and to people.
//! No Leptos: server functions (`app`), the JSON API, workers and the CLI (`server`) call it.
//!
//! A folder per capability, each holding its entities (`entity.rs`), its rules and its read
//! models; the types that cross the wire come from `wire` and are re-exported here under the
//! same capability, so `wire::credits::GrantStatus` names the same thing on both sides.
//!
//! A capability calls only those below it, in this order (`tests/layers.rs` holds it):
//! the kernel (the top-level files: `access`, `audit`, `client`, `csv`, `queue`, `state`,
//! `tables`, `txn`) → mail → channels → cluster → auth → startups → credits → settlement →
//! incubation → intake → review → cohorts → admin. Entities lie beneath them all (their relations run
//! both ways). No call goes upward.
pub use wire::{error, i18n, time};

pub mod access;
pub mod audit;
pub mod client;
pub mod csv;
pub mod queue;
pub mod state;
pub mod tables;
pub mod txn;

pub mod admin;
pub mod auth;
pub mod channels;
pub mod cluster;
pub mod cohorts;
pub mod credits;
pub mod incubation;
pub mod intake;
pub mod mail;
pub mod review;
pub mod settlement;
pub mod startups;
