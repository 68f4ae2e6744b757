//! Mentor review: assignments, the mentor's queue, rubric scores, conflicts of interest.
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// States of a review assignment (DESIGN: assigned → submitted | recused).
    pub enum AssignmentStatus {
        Assigned = "assigned",
        Submitted = "submitted",
        Recused = "recused",
    }
}

/// One row of the admin's list of every application.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationListRow {
    pub id: i64,
    pub round_id: i64,
    pub round_title_en: String,
    pub round_title_zh: String,
    pub startup_id: i64,
    pub startup_name: String,
    pub status: crate::intake::ApplicationStatus,
    pub gpu_model: String,
    pub gpu_hours: i64,
    pub submitted_at: Option<DateTime<Utc>>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reviews_submitted: usize,
    pub reviews_assigned: usize,
}

/// Every status an application can be in, for the admin list's filter.
pub fn listing_statuses() -> &'static [crate::intake::ApplicationStatus] {
    use crate::intake::ApplicationStatus::*;
    &[
        Draft, Submitted, InReview, Accepted, Waitlisted, Rejected, Withdrawn,
    ]
}

/// The admin's application list: sortable columns (the first is the default, newest first).
pub const APPLICATION_COLUMNS: &[crate::tables::Column] = &[
    crate::tables::col("submitted", "applications.submitted", true),
    crate::tables::col("startup", "grants.startup", false),
    crate::tables::col("status", "outbox.status", false),
    crate::tables::col("hours", "applications.gpu_hours", true),
    crate::tables::col("decided", "applications.decided", true),
];

crate::states::states! {
    /// What a mentor recommends (`review.recommend_<recommendation>`).
    pub enum Recommendation {
        Accept = "accept",
        Waitlist = "waitlist",
        Reject = "reject",
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueItem {
    pub assignment_id: i64,
    pub application_id: i64,
    pub round_title: String,
    /// The startup's name, or None when the round's review is blind.
    pub startup_name: Option<String>,
    pub status: AssignmentStatus,
    pub due_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CriterionScore {
    pub criterion_id: i64,
    pub name: String,
    pub guidance: String,
    pub weight: i32,
    pub score: Option<i32>,
}

/// One assignment as its mentor sees it: the frozen application and their own review.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewPage {
    pub assignment_id: i64,
    pub application_id: i64,
    pub status: AssignmentStatus,
    pub round_title: String,
    pub due_at: Option<DateTime<Utc>>,
    pub editable: bool,
    pub blind: bool,
    /// The startup as submitted; under blind review its name, founders, code and website are removed.
    pub profile: crate::startups::StartupProfile,
    pub fields: crate::intake::ApplicationFields,
    pub criteria: Vec<CriterionScore>,
    pub recommendation: Option<Recommendation>,
    pub feedback_applicant: String,
    pub notes_committee: String,
    pub conflict_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentRow {
    pub assignment_id: i64,
    pub mentor_id: i64,
    pub mentor_name: String,
    pub status: AssignmentStatus,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundApplicationRow {
    pub application_id: i64,
    pub startup_name: String,
    pub status: crate::intake::ApplicationStatus,
    pub submitted_at: Option<DateTime<Utc>>,
    pub assignments: Vec<AssignmentRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentorOption {
    pub id: i64,
    pub name: String,
    pub email: String,
}

/// What an automatic assignment did: assignments made, and applications still short of
/// reviewers because too few mentors were eligible.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoAssignOutcome {
    pub assigned: usize,
    pub short: usize,
}

/// The admin's view of a round's applications and who reviews them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoundApplications {
    pub round_id: i64,
    pub round_title: String,
    pub mentors_per_application: i32,
    /// One page of the round's applications (50).
    pub rows: Vec<RoundApplicationRow>,
    pub page: u64,
    pub more: bool,
    /// Applications of the whole round still short of reviewers.
    pub short: usize,
    pub mentors: Vec<MentorOption>,
}

/// Still under review and with fewer active (not recused) reviewers than the round asks for.
pub fn needs_reviewers(row: &RoundApplicationRow, wanted: usize) -> bool {
    matches!(
        row.status,
        crate::intake::ApplicationStatus::Submitted | crate::intake::ApplicationStatus::InReview
    ) && row
        .assignments
        .iter()
        .filter(|a| a.status != AssignmentStatus::Recused)
        .count()
        < wanted
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReviewSummary {
    pub mentor_name: String,
    pub total: f64,
    /// None only for a review submitted before recommendations were required.
    pub recommendation: Option<Recommendation>,
    pub feedback_applicant: String,
    pub notes_committee: String,
}

/// One application on the committee's board.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BoardRow {
    pub application_id: i64,
    pub startup_name: String,
    pub status: crate::intake::ApplicationStatus,
    pub assigned: usize,
    pub weighted_mean: Option<f64>,
    pub spread: Option<f64>,
    pub disagreement: bool,
    /// The mean of its reviewers' z-scores: how it ranks against each mentor's other reviews.
    pub normalised: Option<f64>,
    pub reviews: Vec<ReviewSummary>,
}

/// One page of a round's decision board, as narrowed and ordered by `BoardView`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DecisionBoard {
    pub round_id: i64,
    pub round_title: String,
    pub rows: Vec<BoardRow>,
    /// Applications the view matches, on every page.
    pub matching: usize,
    pub page: u64,
    pub more: bool,
}

/// How the board is narrowed, ordered and paged: the page's address (`?sort=normalised`,
/// `?status=…`, `?page=…`), so it works without JavaScript and can be shared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BoardView {
    /// `normalised`, or anything else for the weighted mean.
    pub sort: String,
    /// One of `BOARD_FILTERS`, or anything else for every application.
    pub status: String,
    pub page: u64,
}

impl BoardView {
    pub fn by_normalised(&self) -> bool {
        self.sort == "normalised"
    }

    /// The filter in force, if it is one the board offers.
    pub fn filter(&self) -> Option<&str> {
        BOARD_FILTERS.iter().copied().find(|f| *f == self.status)
    }

    /// This view's address on the board of `round_id`, at `page`.
    pub fn href(&self, round_id: i64, page: u64) -> String {
        let mut params = Vec::new();
        if self.by_normalised() {
            params.push("sort=normalised".to_string());
        }
        if let Some(s) = self.filter() {
            params.push(format!("status={s}"));
        }
        if page > 0 {
            params.push(format!("page={page}"));
        }
        let base = format!("/admin/rounds/{round_id}/decisions");
        if params.is_empty() {
            base
        } else {
            format!("{base}?{}", params.join("&"))
        }
    }
}

/// What the board can be narrowed to: a status, or the applications whose reviewers disagree.
pub const BOARD_FILTERS: &[&str] = &[
    crate::intake::ApplicationStatus::InReview.as_str(),
    crate::intake::ApplicationStatus::Waitlisted.as_str(),
    crate::intake::ApplicationStatus::Accepted.as_str(),
    crate::intake::ApplicationStatus::Rejected.as_str(),
    crate::intake::ApplicationStatus::Withdrawn.as_str(),
    "disagreement",
];
