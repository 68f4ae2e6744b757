//! Talent-training cohorts: sessions, enrolment with a waitlist, attendance, completion and
//! certificates anyone can verify.
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
use crate::i18n::Locale;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// Tracks a cohort can belong to; each has a translated label `track.<track>`.
    pub enum Track {
        AiEngineering = "ai_engineering",
        Mlops = "mlops",
        Data = "data",
        AiProduct = "ai_product",
        Entrepreneurship = "entrepreneurship",
        Research = "research",
    }
}

crate::states::states! {
    /// Who marked an attendance: an admin on the roster, or the attendee checking in with
    /// the session's code.
    pub enum AttendanceSource {
        Roster = "roster",
        Checkin = "checkin",
    }
}

crate::states::states! {
    /// States of an enrolment: `enrolled | waitlisted → withdrawn | completed`.
    pub enum EnrolmentStatus {
        Enrolled = "enrolled",
        Waitlisted = "waitlisted",
        Withdrawn = "withdrawn",
        Completed = "completed",
    }
}

/// A cohort's phase by its dates, for the admin's filter; each has a label `cohorts.phase_<key>`.
pub const PHASES: &[&str] = &["upcoming", "running", "ended"];

/// The admin's cohort table: sortable columns (the first is the default order, latest first).
pub const COHORT_COLUMNS: &[crate::tables::Column] = &[
    crate::tables::col("starts", "cohorts.dates", true),
    crate::tables::col("title", "cohorts.cohort", false),
    crate::tables::col("track", "cohorts.track", false),
    crate::tables::col("capacity", "cohorts.capacity", true),
];

/// The cohort's text in the reader's language.
pub fn pick<'a>(locale: Locale, en: &'a str, zh: &'a str) -> &'a str {
    match locale {
        Locale::ZhCn if !zh.trim().is_empty() => zh,
        _ => en,
    }
}

/// A cohort as lists show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortCard {
    pub id: i64,
    pub title_en: String,
    pub title_zh: String,
    pub track: Track,
    pub capacity: i32,
    pub enrolled: i64,
    pub waitlisted: i64,
    pub completed: i64,
    pub enrol_opens_at: DateTime<Utc>,
    pub enrol_closes_at: DateTime<Utc>,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub location: String,
    /// Enrolment is open at the time of the request.
    pub open_now: bool,
    /// The reader's own enrolment status, if any.
    pub my_status: Option<EnrolmentStatus>,
}

impl CohortCard {
    pub fn title(&self, locale: Locale) -> String {
        pick(locale, &self.title_en, &self.title_zh).to_string()
    }

    /// Places taken: enrolled and completed people both hold one.
    pub fn taken(&self) -> i64 {
        self.enrolled + self.completed
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    pub id: i64,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub topic: String,
    pub instructor: String,
    /// Self check-in is accepted now.
    pub checkin_open: bool,
    /// The reader's attendance: None when not marked.
    pub attended: Option<bool>,
    /// Only for admins, who show it in the room.
    pub checkin_code: Option<String>,
    /// Admins: people marked present.
    pub present: i64,
}

/// The reader's place in a cohort.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MyEnrolment {
    pub status: EnrolmentStatus,
    /// 1-based place on the waitlist.
    pub waitlist_position: Option<i64>,
    pub attended: i64,
    pub certificate_code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortDetail {
    pub card: CohortCard,
    pub description_en: String,
    pub description_zh: String,
    pub completion_percent: i32,
    pub sessions: Vec<SessionView>,
    pub signed_in: bool,
    pub me: Option<MyEnrolment>,
    pub is_admin: bool,
}

/// What the cohort form edits, as text fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct CohortForm {
    pub id: i64,
    pub title_en: String,
    pub title_zh: String,
    pub track: String,
    pub description_en: String,
    pub description_zh: String,
    pub capacity: String,
    pub enrol_opens_at: String,
    pub enrol_closes_at: String,
    pub starts_on: String,
    pub ends_on: String,
    pub location: String,
    pub completion_percent: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RosterRow {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub status: EnrolmentStatus,
    pub queued_at: DateTime<Utc>,
    pub attended: i64,
    pub certificate_code: Option<String>,
}

/// Everything the admin's cohort page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CohortAdmin {
    pub detail: CohortDetail,
    pub form: CohortForm,
    pub roster: Vec<RosterRow>,
}

/// One session's roster for marking attendance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessionRoster {
    pub cohort_id: i64,
    pub cohort_title_en: String,
    pub cohort_title_zh: String,
    pub session: SessionView,
    pub rows: Vec<AttendanceRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttendanceRow {
    pub user_id: i64,
    pub name: String,
    pub email: String,
    pub present: Option<bool>,
    pub source: Option<AttendanceSource>,
}

/// A certificate as printed and as the public verification page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CertificateView {
    pub code: String,
    pub holder_name: String,
    pub cohort_title_en: String,
    pub cohort_title_zh: String,
    pub track: Track,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
    pub sessions_attended: i32,
    pub sessions_total: i32,
    pub issued_at: DateTime<Utc>,
}

/// A person's training at a glance, for their dashboard.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Default)]
pub struct MyTraining {
    pub cohorts: Vec<CohortCard>,
    pub next_sessions: Vec<UpcomingSession>,
    pub certificates: Vec<CertificateView>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UpcomingSession {
    pub cohort_id: i64,
    pub cohort_title_en: String,
    pub cohort_title_zh: String,
    pub starts_at: DateTime<Utc>,
    pub topic: String,
    pub location: String,
}

/// A certificate code as people type it: case and separators do not matter.
pub fn normalise_code(text: &str) -> String {
    let raw: String = text
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    match raw.strip_prefix("HC") {
        Some(rest) if rest.len() == 12 => {
            format!("HC-{}-{}-{}", &rest[0..4], &rest[4..8], &rest[8..12])
        }
        _ => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_read_whatever_the_case_and_separators() {
        assert_eq!(normalise_code("hc-abcd-efgh-jkmn"), "HC-ABCD-EFGH-JKMN");
        assert_eq!(normalise_code(" HC ABCD EFGH JKMN "), "HC-ABCD-EFGH-JKMN");
        assert_eq!(normalise_code("HCABCDEFGHJKMN"), "HC-ABCD-EFGH-JKMN");
        assert_eq!(normalise_code("nonsense"), "NONSENSE");
    }

    #[test]
    fn chinese_text_falls_back_to_english_when_missing() {
        assert_eq!(pick(Locale::ZhCn, "Intro", "入门"), "入门");
        assert_eq!(pick(Locale::ZhCn, "Intro", " "), "Intro");
        assert_eq!(pick(Locale::En, "Intro", "入门"), "Intro");
    }
}
