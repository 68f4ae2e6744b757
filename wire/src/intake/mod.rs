//! Intake rounds, their rubrics, and applications from draft to decision.
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// An open round as the public sees it, in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenRound {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub closes_at: DateTime<Utc>,
}

/// Where a round is in its life, relative to now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Phase {
    Upcoming,
    Open,
    Closed,
}

impl Phase {
    pub fn at(opens_at: DateTime<Utc>, closes_at: DateTime<Utc>, now: DateTime<Utc>) -> Phase {
        if now < opens_at {
            Phase::Upcoming
        } else if now < closes_at {
            Phase::Open
        } else {
            Phase::Closed
        }
    }

    pub fn label_key(self) -> &'static str {
        match self {
            Phase::Upcoming => "rounds.phase_upcoming",
            Phase::Open => "rounds.phase_open",
            Phase::Closed => "rounds.phase_closed",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundRow {
    pub id: i64,
    pub title: String,
    pub opens_at: DateTime<Utc>,
    pub closes_at: DateTime<Utc>,
    pub phase: Phase,
    pub submitted: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub id: i64,
    pub name_en: String,
    pub name_zh: String,
    pub guidance_en: String,
    pub guidance_zh: String,
    pub weight: i32,
}

/// A round as its edit form shows it: times already in the inputs' format.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct RoundForm {
    pub id: Option<i64>,
    pub title_en: String,
    pub title_zh: String,
    pub description_en: String,
    pub description_zh: String,
    pub opens_at: String,
    pub closes_at: String,
    pub review_deadline: String,
    pub mentors_per_application: i32,
    pub blind_review: bool,
    pub criteria: Vec<Criterion>,
}

crate::states::states! {
    /// The states of an application (DESIGN: draft → submitted → in_review → decision;
    /// withdrawn); each has a label `application.status_<state>`.
    pub enum ApplicationStatus {
        Draft = "draft",
        Submitted = "submitted",
        InReview = "in_review",
        Accepted = "accepted",
        Rejected = "rejected",
        Waitlisted = "waitlisted",
        Withdrawn = "withdrawn",
    }
}

impl ApplicationStatus {
    pub fn label_key(self) -> String {
        format!("application.status_{self}")
    }

    /// Whether the applicant may still withdraw it (before a decision).
    pub const fn may_withdraw(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Draft | ApplicationStatus::Submitted | ApplicationStatus::InReview
        )
    }

    /// Whether a decision was made (accepted, rejected or waitlisted).
    pub const fn is_decided(self) -> bool {
        matches!(
            self,
            ApplicationStatus::Accepted
                | ApplicationStatus::Rejected
                | ApplicationStatus::Waitlisted
        )
    }
}

/// The applicant's answers, as the form shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ApplicationFields {
    pub problem: String,
    pub solution: String,
    pub models_data: String,
    pub gpu_model: String,
    pub gpu_hours: String,
    pub traction: String,
    pub team: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSummary {
    pub id: i64,
    pub round_id: i64,
    pub round_title: String,
    pub status: ApplicationStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// What the apply page needs: the round, the team's startup, and any application so far.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyPage {
    pub round_id: i64,
    pub round_title: String,
    pub round_description: String,
    pub closes_at: DateTime<Utc>,
    pub phase: Phase,
    pub startup_name: Option<String>,
    pub application: Option<ApplicationSummary>,
    pub fields: ApplicationFields,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineStep {
    pub status: ApplicationStatus,
    pub at: DateTime<Utc>,
}

/// A submitted application exactly as the committee sees it, plus its timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationDetail {
    pub summary: ApplicationSummary,
    pub fields: ApplicationFields,
    pub profile: crate::startups::StartupProfile,
    pub timeline: Vec<TimelineStep>,
    pub decision_message: Option<String>,
    /// Mentors' feedback meant for the applicant, shown once a decision is made (never their notes).
    pub feedback: Vec<String>,
    pub can_withdraw: bool,
    /// Where the page's back link goes, and its label's key: the applicant's list for their
    /// team, the round's list for admins, the review queue for mentors.
    pub back: (String, String),
}
