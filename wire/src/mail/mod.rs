//! Email: the outbox every message goes through, its templates, the worker that delivers it.
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// The states of an outbox row.
    pub enum MailStatus {
        Pending = "pending",
        Sent = "sent",
        Dead = "dead",
    }
}

crate::states::states! {
    /// What an email is about: the template it was written from (`mail.<kind>.subject`).
    pub enum MailKind {
        Verify = "verify",
        Reset = "reset",
        Invite = "invite",
        Submitted = "submitted",
        Assigned = "assigned",
        AssignedBatch = "assigned_batch",
        TeamInvite = "team_invite",
        MentorAssigned = "mentor_assigned",
        MilestoneReminder = "milestone_reminder",
        MilestoneSignedOff = "milestone_signed_off",
        IncubationEnded = "incubation_ended",
        Grant = "grant",
        Cohort = "cohort",
        Certificate = "certificate",
        Conflict = "conflict",
        Decision = "decision",
    }
}

/// The admin's outbox list: sortable columns (the first is the default order, newest first).
pub const OUTBOX_COLUMNS: &[crate::tables::Column] = &[
    crate::tables::col("created", "outbox.created", true),
    crate::tables::col("to", "outbox.to", false),
    crate::tables::col("status", "outbox.status", false),
    crate::tables::col("attempts", "outbox.attempts", true),
];

/// A row of the admin's outbox list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRow {
    pub id: i64,
    pub to_address: String,
    pub kind: MailKind,
    pub subject: String,
    pub status: MailStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub delivery_ref: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub sent_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxPage {
    pub rows: Vec<OutboxRow>,
    pub page: u64,
    /// Whether the next page has rows.
    pub more: bool,
    /// The first and last rows' ids, for the pager (see `TablePage`).
    pub keys: Option<(i64, i64)>,
    /// Where .eml files are written when no SMTP server is configured.
    pub file_dir: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub row: OutboxRow,
    pub body_text: String,
}
