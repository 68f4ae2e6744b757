//! Startups: the applicant's company profile and its team, and their incubation: residency,
//! mentors, milestones and notes.
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
pub mod credit_code;
pub mod figures;
pub mod incubation;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use credit_code::CreditCode;

crate::states::states! {
    /// Sectors a startup can pick; each has a translated label `sector.<sector>`.
    pub enum Sector {
        FoundationModels = "foundation_models",
        ComputerVision = "computer_vision",
        Language = "language",
        Speech = "speech",
        Robotics = "robotics",
        AutonomousDriving = "autonomous_driving",
        Healthcare = "healthcare",
        Finance = "finance",
        Industry = "industry",
        Education = "education",
        Other = "other",
    }
}

crate::states::states! {
    /// Stages of a startup; each has a translated label `stage.<stage>`.
    pub enum Stage {
        Idea = "idea",
        Prototype = "prototype",
        Seed = "seed",
        SeriesA = "series_a",
        Growth = "growth",
    }
}

crate::states::states! {
    /// A team member's part: `founder` (who created the profile) or `cofounder` (who joined
    /// by invitation); each has a label `team.role_<role>`.
    pub enum MemberRole {
        Founder = "founder",
        Cofounder = "cofounder",
    }
}

/// A startup's profile as its team edits it and as reviewers see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StartupProfile {
    pub id: i64,
    pub name: String,
    pub credit_code: Option<String>,
    pub sector: String,
    pub stage: String,
    pub team_size: i32,
    pub website: Option<String>,
    pub founders: String,
    pub status: incubation::StartupStatus,
    /// The day the company was registered, when known (older snapshots have none).
    #[serde(default)]
    pub founded_on: Option<chrono::NaiveDate>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamMember {
    pub name: String,
    pub email: String,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingInvitation {
    pub id: i64,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub startup_name: String,
    pub members: Vec<TeamMember>,
    pub pending: Vec<PendingInvitation>,
}
