//! Settlement (issue 17): funding programmes (compute vouchers, 算力券) and the startups
//! enrolled in them. Here: the types that cross the wire and the reading of rates and
//! amounts as people type them; the rules are in `domain::settlement`.
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

pub mod claims;
pub mod statements;

crate::states::states! {
    /// Who funds a programme; each has a label `programme.sponsor_<kind>`.
    pub enum SponsorKind {
        City = "city",
        District = "district",
        Park = "park",
    }
}

/// The largest cap accepted: ¥10 billion.
pub const MAX_CAP_FEN: i64 = 1_000_000_000_000;

/// A rate as people type it ("30", "30 %", "12.5") to basis points (30 % is 3,000): from 0 to
/// 100 %, at most two decimals.
pub fn parse_percent(text: &str) -> Option<i64> {
    let t = text.trim().trim_end_matches(['%', '％']).trim();
    let (bp, has_whole) = crate::credits::hundredths(t)?;
    (has_whole && (0..=10_000).contains(&bp)).then_some(bp)
}

/// Basis points as a percentage for people: `30 %`, `12.5 %`.
pub fn format_percent(bp: i64) -> String {
    let whole = bp / 100;
    match bp % 100 {
        0 => format!("{whole} %"),
        f if f % 10 == 0 => format!("{whole}.{} %", f / 10),
        f => format!("{whole}.{f:02} %"),
    }
}

/// A programme as its form shows it (and as the list and the API give it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeRow {
    pub id: i64,
    pub name_en: String,
    pub name_zh: String,
    pub sponsor_kind: Option<SponsorKind>,
    pub sponsor: String,
    pub rate_domestic_bp: i64,
    pub rate_other_bp: i64,
    /// The rate for young startups and how young (years since founding) they must be.
    pub young_rate_bp: Option<i64>,
    pub young_years: Option<i32>,
    pub cap_company_year_fen: Option<i64>,
    pub cap_pool_fen: Option<i64>,
    pub cap_contract_fen: Option<i64>,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
    pub region_prefix: Option<String>,
    pub unaffiliated_provider: bool,
    /// The programmes a startup enrolled in this one may not also be in.
    pub excludes: Vec<i64>,
    /// Startups enrolled now.
    pub enrolled: i64,
}

/// A programme's name in the reader's language (the other one when that is empty).
pub fn name_in<'a>(chinese: bool, en: &'a str, zh: &'a str) -> &'a str {
    match (chinese, zh.is_empty(), en.is_empty()) {
        (true, false, _) | (false, _, true) => zh,
        _ => en,
    }
}

impl ProgrammeRow {
    /// Its name in the reader's language (the other one when that is empty).
    pub fn name(&self, chinese: bool) -> &str {
        name_in(chinese, &self.name_en, &self.name_zh)
    }
}

/// A startup's enrolment in a programme.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolmentRow {
    pub id: i64,
    pub programme_id: i64,
    pub programme_en: String,
    pub programme_zh: String,
    pub startup_id: i64,
    pub startup: String,
    /// The enrolment's own yearly cap, when smaller than the programme's.
    pub cap_fen: Option<i64>,
    pub reason: String,
    pub decided_by: String,
    pub decided_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// A firm affiliated with a startup (a shareholder, a subsidiary), by its credit code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AffiliateRow {
    pub id: i64,
    pub credit_code: String,
    pub name: String,
}

/// A programme's page: the programme, the others (for its exclusions) and its enrolments.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgrammeDetail {
    pub programme: ProgrammeRow,
    pub others: Vec<(i64, String, String)>,
    pub enrolments: Vec<EnrolmentRow>,
}

/// A startup's programmes on its page: its enrolments, the programmes it may be enrolled in
/// (id, English and Chinese name) and its affiliated firms.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupFunding {
    pub enrolments: Vec<EnrolmentRow>,
    pub programmes: Vec<(i64, String, String)>,
    pub affiliates: Vec<AffiliateRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_become_basis_points_and_back() {
        assert_eq!(parse_percent("30"), Some(3000));
        assert_eq!(parse_percent(" 30 % "), Some(3000));
        assert_eq!(parse_percent("12.5"), Some(1250));
        assert_eq!(parse_percent("0"), Some(0));
        assert_eq!(parse_percent("100"), Some(10_000));
        for bad in ["", "%", "100.01", "-5", "12.345", ".5", "abc"] {
            assert_eq!(parse_percent(bad), None, "{bad}");
        }
        assert_eq!(format_percent(3000), "30 %");
        assert_eq!(format_percent(1250), "12.5 %");
        assert_eq!(format_percent(1234), "12.34 %");
        assert_eq!(format_percent(5), "0.05 %");
    }

    #[test]
    fn a_programme_is_named_in_the_readers_language() {
        let p = ProgrammeRow {
            name_en: "Voucher".into(),
            name_zh: "算力券".into(),
            ..Default::default()
        };
        assert_eq!(p.name(true), "算力券");
        assert_eq!(p.name(false), "Voucher");
        let only_zh = ProgrammeRow {
            name_zh: "算力券".into(),
            ..Default::default()
        };
        assert_eq!(only_zh.name(false), "算力券");
    }
}
