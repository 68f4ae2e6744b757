//! Claims (issue 17): what the park files with a programme's sponsor, and each programme's
//! pool and caps as they stand. The rules are in `domain::settlement::claims`.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// A claim is filed with the sponsor, then reimbursed; each has a label
    /// `claim.status_<state>`.
    pub enum ClaimStatus {
        Filed = "filed",
        Reimbursed = "reimbursed",
    }
}

/// A claim in the list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimRow {
    pub id: i64,
    pub programme_id: i64,
    pub programme_en: String,
    pub programme_zh: String,
    pub period_from: String,
    pub period_until: String,
    pub status: ClaimStatus,
    pub statements: i64,
    pub total_fen: i64,
    pub filed_by: String,
    pub filed_at: DateTime<Utc>,
    pub reimbursed_at: Option<DateTime<Utc>>,
    pub sponsor_ref: String,
}

/// A statement on a claim, with the evidence the sponsor checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimStatement {
    pub statement_id: i64,
    pub startup_id: i64,
    pub startup: String,
    pub credit_code: Option<String>,
    pub period: String,
    pub provider: String,
    pub amount_fen: i64,
    pub own_fen: i64,
    /// What the claim's programme pays on it.
    pub claimed_fen: i64,
    pub contract_no: String,
    pub contract_date: Option<NaiveDate>,
    pub invoice_no: String,
    pub payment_ref: String,
}

/// A startup's total on a claim.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimStartup {
    pub startup_id: i64,
    pub startup: String,
    pub statements: i64,
    pub claimed_fen: i64,
}

/// A claim's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimDetail {
    pub claim: ClaimRow,
    pub sponsor: String,
    pub startups: Vec<ClaimStartup>,
    pub statements: Vec<ClaimStatement>,
}

/// A company's year to date under a programme, against its yearly cap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompanyYear {
    pub startup_id: i64,
    pub startup: String,
    pub paid_fen: i64,
    pub cap_fen: Option<i64>,
}

/// A programme's money as it stands: its pool used and left, the companies nearest their
/// yearly cap, and when the pool runs out at the recent rate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeMoney {
    pub programme_id: i64,
    pub programme_en: String,
    pub programme_zh: String,
    pub pool_fen: Option<i64>,
    /// Paid on every statement so far (corrections counted once).
    pub used_fen: i64,
    /// Of that, claimed and reimbursed.
    pub claimed_fen: i64,
    pub reimbursed_fen: i64,
    /// The subsidy per month over the last three full months.
    pub monthly_fen: i64,
    /// The month the pool runs out at that rate, if it has a pool and the rate is above zero.
    pub runs_out: Option<String>,
    /// This calendar year, the companies paid the most.
    pub companies: Vec<CompanyYear>,
}

/// The claims page: every claim, each programme's money, and the programmes one may file for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsOverview {
    pub claims: Vec<ClaimRow>,
    pub programmes: Vec<ProgrammeMoney>,
}
