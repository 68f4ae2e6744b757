//! The park administrator's pages: the dashboard, the people who use Hatchery, and the audit
//! log of every change.
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
pub mod sponsor;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where a person stands, for their dashboard's cards: each card says what is true now rather
/// than what will one day be listed there.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardSummary {
    /// The person's startup: its name and status (`applicant`, `incubating`, `graduated`,
    /// `exited`).
    pub startup: Option<(String, crate::startups::incubation::StartupStatus)>,
    /// The status of the startup's newest application while it is still being considered
    /// (draft, submitted, in review, waitlisted).
    pub application_open: Option<crate::intake::ApplicationStatus>,
    /// Reviews assigned to the person (a mentor) and not yet submitted, and the soonest due.
    pub reviews_open: i64,
    pub next_review_due: Option<DateTime<Utc>>,
}

/// Entity types that audit entries name, offered as suggestions in the filter.
pub const AUDITED_ENTITIES: &[&str] = &[
    "application",
    "cohort",
    "cohort_session",
    "email",
    "enrolment",
    "grant",
    "invitation",
    "milestone",
    "resource",
    "review",
    "round",
    "startup",
    "sync_job",
    "user",
];

/// What the audit log is filtered by; every field may be empty. Dates are `YYYY-MM-DD` (the reader's days),
/// both ends included.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct AuditFilter {
    /// Part of the actor's email or name; `system` for changes made by the workers.
    pub actor: String,
    pub entity_type: String,
    pub entity_id: String,
    /// The start of the action, e.g. `grant.` for every grant action.
    pub action: String,
    pub from: String,
    pub to: String,
}

impl AuditFilter {
    /// The filter as a query string, for links that keep it (pages, CSV export).
    pub fn query(&self) -> String {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                [
                    ("actor", &self.actor),
                    ("entity_type", &self.entity_type),
                    ("entity_id", &self.entity_id),
                    ("action", &self.action),
                    ("from", &self.from),
                    ("to", &self.to),
                ]
                .into_iter()
                .filter(|(_, v)| !v.is_empty()),
            )
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_name: Option<String>,
    pub actor_email: Option<String>,
    pub action: String,
    pub entity_type: String,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    pub page: u64,
    pub per_page: u64,
    /// Whether there are older entries than this page (the log is not counted: it is long).
    pub more: bool,
}

crate::states::states! {
    /// What an API token may do (`tokens.scope_<scope>`): read, or also write.
    pub enum TokenScope {
        Read = "read",
        Write = "write",
    }
}

/// An API token as its list shows it (never the token itself).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scope: TokenScope,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokens {
    pub tokens: Vec<ApiTokenRow>,
    /// A token issued a moment ago in this browser, shown once more when the page reloads
    /// without JavaScript.
    pub fresh: Option<String>,
}

/// Applications of one intake round by status: the intake funnel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundFunnel {
    pub id: i64,
    pub title_en: String,
    pub title_zh: String,
    /// (status, applications), for every status of the lifecycle.
    pub counts: Vec<(String, i64)>,
}

/// GPU credit on one compute resource, over all its grants, in GPU-minutes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceCredit {
    pub id: i64,
    pub name: String,
    pub gpu_model: String,
    pub granted: i64,
    pub consumed: i64,
    pub remaining: i64,
}

/// The park at a glance, for admins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParkOverview {
    pub rounds: Vec<RoundFunnel>,
    /// (startup status, startups).
    pub startups: Vec<(String, i64)>,
    pub resources: Vec<ResourceCredit>,
    /// (month `YYYY-MM`, GPU-minutes consumed), the last 12 months, oldest first.
    pub burn: Vec<(String, i64)>,
    pub cohorts: Vec<crate::cohorts::CohortCard>,
    /// When these figures were computed (they are kept for a minute).
    pub as_of: chrono::DateTime<chrono::Utc>,
    /// The park's zone, whose months `burn` counts.
    pub park_zone: String,
}

/// The park's key figures for a date range (both ends included, the park's days).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KpiReport {
    /// The park's zone, whose days `from` and `to` are.
    pub zone: String,
    pub from: chrono::NaiveDate,
    pub to: chrono::NaiveDate,
    /// Startups whose application was accepted in the range.
    pub admitted: i64,
    pub graduated: i64,
    pub exited: i64,
    /// GPU-minutes issued (grants and released tranches) and used in the range.
    pub gpu_minutes_granted: i64,
    pub gpu_minutes_consumed: i64,
    /// People who completed a cohort in the range.
    pub people_trained: i64,
    pub certificates: i64,
}
