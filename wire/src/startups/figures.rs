//! A firm's figures for the sponsor's annual report (issue 17, item 6): when the company was
//! registered, its headcount over time, and the financing rounds it closed. The rules are in
//! `domain::startups::figures`.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// A financing round's kind; each has a label `figures.round_<round>`.
    pub enum FinancingRound {
        Angel = "angel",
        Seed = "seed",
        PreA = "pre_a",
        SeriesA = "series_a",
        SeriesB = "series_b",
        SeriesCPlus = "series_c_plus",
        Strategic = "strategic",
        Debt = "debt",
        Grant = "grant",
    }
}

/// A headcount as recorded: the number of employees on a day.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadcountRow {
    pub id: i64,
    pub as_of: NaiveDate,
    pub employees: i32,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A financing round as recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FinancingRow {
    pub id: i64,
    pub closed_on: NaiveDate,
    pub round: FinancingRound,
    pub amount_fen: i64,
    pub investors: String,
    pub recorded_by: String,
    pub recorded_at: DateTime<Utc>,
}

/// A firm's figures, the newest first, and whether the viewer may record more.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyFigures {
    pub startup_id: i64,
    pub founded_on: Option<NaiveDate>,
    pub headcounts: Vec<HeadcountRow>,
    pub financings: Vec<FinancingRow>,
    pub can_edit: bool,
}
