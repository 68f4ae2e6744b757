//! What crosses the wire about incubation: a startup's residency, mentors, milestones and
//! notes, the admin's startup list and the mentor's own list. Rules live in `residency.rs`
//! and `milestones.rs` (server only).
use super::{StartupProfile, TeamMember};
use crate::tables::{col, Column};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// States of a startup (DESIGN: applicant → incubating → graduated | exited); each has a
    /// label `incubation.status_<state>`. Declared in the order the lists offer them.
    pub enum StartupStatus {
        Incubating = "incubating",
        Graduated = "graduated",
        Exited = "exited",
        Applicant = "applicant",
    }
}

/// A startup begins as an applicant.
impl Default for StartupStatus {
    fn default() -> Self {
        StartupStatus::Applicant
    }
}

impl StartupStatus {
    /// Graduated or exited: its incubation is over.
    pub const fn has_ended(self) -> bool {
        matches!(self, StartupStatus::Graduated | StartupStatus::Exited)
    }
}

crate::states::states! {
    /// States of a milestone (planned → done | missed); each has a label
    /// `milestones.status_<state>`.
    pub enum MilestoneStatus {
        Planned = "planned",
        Done = "done",
        Missed = "missed",
    }
}

crate::states::states! {
    /// States of a tranche of a grant (pending → released | cancelled); each has a label
    /// `tranches.status_<state>`.
    pub enum TrancheStatus {
        Pending = "pending",
        Released = "released",
        Cancelled = "cancelled",
    }
}

/// How many days before its due date a planned milestone's reminder goes out.
pub const REMINDER_DAYS: i64 = 7;

/// The admin's startup list: sortable columns (the first is the default order).
pub const STARTUP_COLUMNS: &[Column] = &[
    col("name", "startup.name", false),
    col("status", "incubation.status", false),
    col("sector", "startup.sector", false),
    col("residency", "incubation.residency", false),
    col("created", "incubation.created", true),
];

/// One row of the admin's startup list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupRow {
    pub id: i64,
    pub name: String,
    pub sector: super::Sector,
    pub stage: super::Stage,
    pub status: StartupStatus,
    pub residency_from: Option<NaiveDate>,
    pub residency_until: Option<NaiveDate>,
    pub mentors: usize,
    pub next_milestone: Option<NextMilestone>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextMilestone {
    pub title: String,
    pub due_on: NaiveDate,
}

/// A tranche of GPU credit waiting on (or released by) a milestone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrancheRow {
    pub id: i64,
    pub grant_id: i64,
    pub milestone_id: i64,
    pub milestone_title: String,
    pub due_on: NaiveDate,
    pub minutes: i64,
    /// `pending`, `released` or `cancelled`; label `tranches.status_<state>`.
    pub status: TrancheStatus,
    pub released_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MilestoneRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub due_on: NaiveDate,
    pub status: MilestoneStatus,
    pub evidence: Option<String>,
    pub notes: Option<String>,
    pub signed_off_by: Option<String>,
    pub signed_off_at: Option<DateTime<Utc>>,
    /// GPU credit tied to this milestone.
    pub tranches: Vec<TrancheRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentorRow {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub assigned_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoteRow {
    pub id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// The startup page for admins and its mentors.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupDetail {
    pub profile: StartupProfile,
    pub residency_from: Option<NaiveDate>,
    pub residency_until: Option<NaiveDate>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    pub team: Vec<TeamMember>,
    pub mentors: Vec<MentorRow>,
    /// People with the mentor role not yet assigned (filled for admins only).
    pub mentor_choices: Vec<(i64, String)>,
    pub milestones: Vec<MilestoneRow>,
    pub notes: Vec<NoteRow>,
    /// Its figures for the sponsors' report.
    pub figures: super::figures::CompanyFigures,
    /// Its GPU credit: grants, burn-downs per resource, tranches.
    pub credit: crate::credits::StartupCredit,
    /// Its subsidy programmes and affiliated firms (for admins only).
    pub funding: Option<crate::settlement::StartupFunding>,
    /// Whether the viewer is an admin (edits, assigns, graduates) — the server decides.
    pub can_manage: bool,
    /// Today on the server, for overdue marks (the browser has no clock of chrono's).
    pub today: NaiveDate,
}

/// What the team sees of its own incubation on /startup, read-only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyIncubation {
    pub status: StartupStatus,
    pub residency_from: Option<NaiveDate>,
    pub residency_until: Option<NaiveDate>,
    pub ended_at: Option<DateTime<Utc>>,
    pub mentors: Vec<String>,
    pub milestones: Vec<MilestoneRow>,
    pub today: NaiveDate,
}

/// A mentor's assigned startup and what is due next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentoringRow {
    pub startup_id: i64,
    pub name: String,
    pub status: StartupStatus,
    pub residency_until: Option<NaiveDate>,
    pub next_milestone: Option<NextMilestone>,
    pub overdue: usize,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mentoring {
    pub rows: Vec<MentoringRow>,
    pub today: NaiveDate,
}
