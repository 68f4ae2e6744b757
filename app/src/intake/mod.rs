//! Intake rounds and applications. For now: the rounds open to applicants, on the landing page.
use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
pub mod domain;
#[cfg(feature = "ssr")]
pub mod entity;
pub mod pages;
pub mod server_fns;

/// An open round as the public sees it, in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRound {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub closes_at: chrono::DateTime<chrono::Utc>,
}
