//! The annual report for the programme's sponsors (issue 17, item 6), in the shape of the
//! national incubator statistics the Torch centre collects: firms incubated and graduated,
//! jobs, financing, the services the park gave (GPU-hours, the compute bill and who paid it)
//! and the training it delivered. The rules are in `domain::admin::sponsor_report`.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// What one programme paid in the year.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeYear {
    pub programme_id: i64,
    pub name_en: String,
    pub name_zh: String,
    pub sponsor: String,
    pub subsidy_fen: i64,
    pub firms: i64,
}

/// A year's figures for the whole park.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SponsorReport {
    pub year: i32,
    pub zone: String,
    pub as_of: Option<DateTime<Utc>>,
    /// Firms in incubation at some time in the year, and at its end.
    pub firms: i64,
    pub incubating_at_end: i64,
    /// Firms admitted, graduated and exited in the year; graduated since the park began.
    pub admitted: i64,
    pub graduated: i64,
    pub graduated_total: i64,
    pub exited: i64,
    /// Firms founded fewer than three years before the year ended.
    pub young_firms: i64,
    /// Employees at the year's end, summed over the firms that recorded a headcount, and the
    /// jobs the firms that recorded one during the year created in it.
    pub headcount_firms: i64,
    pub employees: i64,
    pub jobs_created: i64,
    /// Financing closed in the year.
    pub financed_firms: i64,
    pub rounds: i64,
    pub financing_fen: i64,
    /// GPU credit granted and GPU time used in the year, in GPU-minutes.
    pub gpu_minutes_granted: i64,
    pub gpu_minutes_consumed: i64,
    /// The year's compute bills (statements issued or later, corrections counted once) and
    /// who paid them.
    pub compute_fen: i64,
    pub park_fen: i64,
    pub subsidy_fen: i64,
    pub own_fen: i64,
    pub programmes: Vec<ProgrammeYear>,
    /// Mentors assigned to the year's firms.
    pub mentors: i64,
    /// Training: cohorts with a session in the year, the sessions, the people who attended
    /// one, who completed a cohort, and the certificates issued.
    pub cohorts: i64,
    pub sessions: i64,
    pub trainees: i64,
    pub completed: i64,
    pub certificates: i64,
}

/// One firm's line of the report (the CSV of firms).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportFirm {
    pub startup_id: i64,
    pub name: String,
    pub credit_code: Option<String>,
    pub status: crate::startups::incubation::StartupStatus,
    pub founded_on: Option<NaiveDate>,
    pub admitted_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub employees: Option<i64>,
    pub jobs_created: Option<i64>,
    pub rounds: i64,
    pub financing_fen: i64,
    pub gpu_minutes: i64,
    pub compute_fen: i64,
    pub subsidy_fen: i64,
}

/// A figure's value and how it is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figure {
    Count(i64),
    Fen(i64),
    Minutes(i64),
}

/// The report's parts, each with its label key, in the order shown.
pub const PARTS: &[(&str, &str)] = &[
    ("firms", "sponsor.part_firms"),
    ("people", "sponsor.part_people"),
    ("financing", "sponsor.part_financing"),
    ("services", "sponsor.part_services"),
    ("training", "sponsor.part_training"),
];

/// The report's figures in the order the page and the CSV show them: its part, its label key
/// and its value.
pub fn figures(r: &SponsorReport) -> Vec<(&'static str, &'static str, Figure)> {
    use Figure::*;
    vec![
        ("firms", "sponsor.firms", Count(r.firms)),
        (
            "firms",
            "sponsor.incubating_at_end",
            Count(r.incubating_at_end),
        ),
        ("firms", "sponsor.admitted", Count(r.admitted)),
        ("firms", "sponsor.graduated", Count(r.graduated)),
        ("firms", "sponsor.graduated_total", Count(r.graduated_total)),
        ("firms", "sponsor.exited", Count(r.exited)),
        ("firms", "sponsor.young_firms", Count(r.young_firms)),
        (
            "people",
            "sponsor.headcount_firms",
            Count(r.headcount_firms),
        ),
        ("people", "sponsor.employees", Count(r.employees)),
        ("people", "sponsor.jobs_created", Count(r.jobs_created)),
        ("people", "sponsor.mentors", Count(r.mentors)),
        (
            "financing",
            "sponsor.financed_firms",
            Count(r.financed_firms),
        ),
        ("financing", "sponsor.rounds", Count(r.rounds)),
        ("financing", "sponsor.financing", Fen(r.financing_fen)),
        (
            "services",
            "sponsor.gpu_hours_granted",
            Minutes(r.gpu_minutes_granted),
        ),
        (
            "services",
            "sponsor.gpu_hours_consumed",
            Minutes(r.gpu_minutes_consumed),
        ),
        ("services", "sponsor.compute", Fen(r.compute_fen)),
        ("services", "sponsor.park_paid", Fen(r.park_fen)),
        ("services", "sponsor.subsidy", Fen(r.subsidy_fen)),
        ("services", "sponsor.own_paid", Fen(r.own_fen)),
        ("training", "sponsor.cohorts", Count(r.cohorts)),
        ("training", "sponsor.sessions", Count(r.sessions)),
        ("training", "sponsor.trainees", Count(r.trainees)),
        ("training", "sponsor.completed", Count(r.completed)),
        ("training", "sponsor.certificates", Count(r.certificates)),
    ]
}
