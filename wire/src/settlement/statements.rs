//! Statements (issue 17): a month's compute bill of one startup with one provider, split into
//! the park's credit, each programme's subsidy and the startup's own payment, and the evidence
//! the sponsor asks for. The rules are in `domain::settlement::statements`.
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// Where a statement is: a draft is computed again until it is issued; an issued one never
    /// changes; it is paid (with the invoice), claimed from the sponsors and reimbursed. Each
    /// has a label `statement.status_<state>`.
    pub enum StatementStatus {
        Draft = "draft",
        Issued = "issued",
        Paid = "paid",
        Claimed = "claimed",
        Reimbursed = "reimbursed",
    }
}

impl StatementStatus {
    /// The state a statement moves to next, if any.
    pub fn next(self) -> Option<StatementStatus> {
        use StatementStatus::*;
        match self {
            Draft => Some(Issued),
            Issued => Some(Paid),
            Paid => Some(Claimed),
            Claimed => Some(Reimbursed),
            Reimbursed => None,
        }
    }
}

/// A month as statements name it: `2027-03`.
pub fn parse_period(text: &str) -> Option<(i32, u32)> {
    let (y, m) = text.trim().split_once('-')?;
    if y.len() != 4 || m.len() != 2 {
        return None;
    }
    let (y, m) = (y.parse::<i32>().ok()?, m.parse::<u32>().ok()?);
    ((2000..=2100).contains(&y) && (1..=12).contains(&m)).then_some((y, m))
}

/// The month a day is in, as statements name it.
pub fn period_of(day: NaiveDate) -> String {
    format!("{:04}-{:02}", day.year(), day.month())
}

/// The sortable columns of the statements list.
pub const STATEMENT_COLUMNS: &[crate::tables::Column] =
    &[crate::tables::col("id", "statement.number", true)];

/// A statement in a list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementRow {
    pub id: i64,
    pub startup_id: i64,
    pub startup: String,
    pub provider: String,
    pub period: String,
    /// 0 for the month's first statement, then each correction's number.
    pub revision: i32,
    pub status: StatementStatus,
    pub jobs: i64,
    pub gpu_minutes: i64,
    pub amount_fen: i64,
    pub park_fen: i64,
    pub subsidy_fen: i64,
    pub own_fen: i64,
    pub updated_at: DateTime<Utc>,
}

/// One job on a statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementLine {
    pub job_ref: String,
    pub resource: String,
    pub ended_at: DateTime<Utc>,
    pub gpu_minutes: i64,
    /// None: no price was in force on the day the job ended.
    pub fen_per_gpu_hour: Option<i64>,
    pub amount_fen: i64,
    pub park_fen: i64,
    pub subsidy_fen: i64,
    pub own_fen: i64,
}

/// What one programme pays on a statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementSubsidy {
    pub programme_id: i64,
    pub programme_en: String,
    pub programme_zh: String,
    pub amount_fen: i64,
}

/// A step of a statement's life: its state, who moved it there and when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementStep {
    pub status: StatementStatus,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// A statement's page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementDetail {
    pub statement: StatementRow,
    pub startup_credit_code: Option<String>,
    pub provider_credit_code: Option<String>,
    /// The statement it corrects, and the one that corrects it.
    pub corrects: Option<i64>,
    pub corrected_by: Option<i64>,
    pub contract_no: String,
    pub contract_date: Option<NaiveDate>,
    pub invoice_no: String,
    pub payment_ref: String,
    pub subsidies: Vec<StatementSubsidy>,
    pub lines: Vec<StatementLine>,
    pub steps: Vec<StatementStep>,
    /// Whether the reader may move it on (admins).
    pub can_manage: bool,
}

crate::states::states! {
    /// A request to prepare a month's statements, run by the worker: waiting (or being
    /// retried), done, or given up after its attempts. Each has a label `statement.run_<state>`.
    pub enum RunStatus {
        Pending = "pending",
        Done = "done",
        Dead = "dead",
    }
}

/// A request to prepare a month, as the statements page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRow {
    pub id: i64,
    pub period: String,
    pub status: RunStatus,
    pub attempts: i32,
    /// The message key of the last failure, if any.
    pub last_error: String,
    pub requested_by: String,
    pub requested_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
    pub done: Prepared,
}

/// What preparing a month's statements did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prepared {
    /// New statements (a month's first, or a correction of an issued one).
    pub created: u64,
    /// Drafts computed again.
    pub refreshed: u64,
    /// Months whose issued statement already holds every job.
    pub unchanged: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_months_of_a_plausible_year() {
        assert_eq!(parse_period("2027-03"), Some((2027, 3)));
        assert_eq!(parse_period(" 2027-12 "), Some((2027, 12)));
        for bad in [
            "", "2027-3", "2027-13", "2027-00", "27-03", "2027/03", "1999-01", "abcd-ef",
        ] {
            assert_eq!(parse_period(bad), None, "{bad}");
        }
        let day = NaiveDate::from_ymd_opt(2027, 3, 31).unwrap();
        assert_eq!(period_of(day), "2027-03");
    }

    #[test]
    fn a_statement_moves_one_way_to_reimbursed() {
        let mut s = StatementStatus::Draft;
        let mut path = vec![s];
        while let Some(n) = s.next() {
            s = n;
            path.push(s);
        }
        assert_eq!(path, StatementStatus::ALL);
    }
}
