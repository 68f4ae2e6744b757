//! GPU credit: compute resources, grants and their ledger, and the sync of every grant to the
//! cluster that enforces it (Slurm through slurmrestd, a published HTTP contract, or none).
//!
//! Here: the types that cross the wire (forms, rows, states, labels), shared with the
//! browser; the rules are in `domain`, the pages in `app`.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

crate::states::states! {
    /// Who pays for a grant's hours: the park's free credit, or the startup's own purchase
    /// (billed on its statements, where subsidy programmes pay their share). Each has a label
    /// `grants.funding_<funding>`.
    pub enum GrantFunding {
        Park = "park",
        Own = "own",
    }
}

crate::states::states! {
    /// States of a grant (DESIGN: active → suspended | expired | revoked); each has a label
    /// `grants.status_<state>`.
    pub enum GrantStatus {
        Active = "active",
        Suspended = "suspended",
        Expired = "expired",
        Revoked = "revoked",
    }
}

impl GrantStatus {
    /// Whether the grant still counts on the cluster (its remaining credit may be used).
    pub const fn is_live(self) -> bool {
        matches!(self, GrantStatus::Active | GrantStatus::Suspended)
    }
}

/// The admin's grant list: sortable columns (the first is the default order, newest first).
pub const GRANT_COLUMNS: &[crate::tables::Column] = &[
    crate::tables::col("created", "grants.created", true),
    crate::tables::col("startup", "grants.startup", false),
    crate::tables::col("status", "outbox.status", false),
    crate::tables::col("granted", "grants.granted", true),
    crate::tables::col("consumed", "grants.consumed", true),
    crate::tables::col("remaining", "grants.remaining", true),
    crate::tables::col("until", "grants.valid_until", false),
];

crate::states::states! {
    /// Kinds of ledger entry; each has a label `ledger.<kind>`.
    pub enum LedgerKind {
        Granted = "granted",
        /// A tranche released by its milestone's sign-off; counted as granted.
        TrancheReleased = "tranche_released",
        Adjusted = "adjusted",
        Consumed = "consumed",
        Expired = "expired",
        Revoked = "revoked",
    }
}

crate::states::states! {
    /// States of a sync job; each has a label `sync.status_<state>`.
    pub enum SyncStatus {
        Pending = "pending",
        Running = "running",
        Done = "done",
        Dead = "dead",
        /// A newer job for the same startup and resource replaced it before it ran.
        Superseded = "superseded",
    }
}

crate::states::states! {
    /// The backends a resource can use; each has a label `resources.backend_<backend>`.
    #[derive(Default)]
    pub enum BackendKind {
        /// Slurm's slurmrestd.
        #[default]
        Slurm = "slurm",
        /// The published HTTP allocation contract.
        Http = "http",
        /// No cluster: grants are tracked in Hatchery only, nothing is synced.
        TrackOnly = "none",
    }
}

crate::states::states! {
    /// How drift found on a resource is repaired: at each pass, or once an admin approves
    /// (`drift.mode_<mode>`).
    #[derive(Default)]
    pub enum RepairMode {
        Auto = "auto",
        #[default]
        Approve = "approve",
    }
}

crate::states::states! {
    /// Kinds of difference between the database and a cluster (`drift.kind_<kind>`).
    pub enum DriftKind {
        /// The cluster has no account for a startup with grants.
        Missing = "missing",
        /// The cap differs, or is there without the flags that make it a lifetime cap.
        Limit = "limit",
        Organization = "organization",
        Members = "members",
        /// An account on the cluster that no startup's grants explain.
        Orphan = "orphan",
    }
}

/// A resource's price per GPU-hour from a day on, as its history lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PriceRow {
    pub id: i64,
    pub fen_per_gpu_hour: i64,
    pub starts_on: chrono::NaiveDate,
    pub note: String,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// Whether it is the price in force today (in the park's zone).
    pub current: bool,
}

/// The largest price per GPU-hour accepted: ¥100,000.
pub const MAX_FEN_PER_GPU_HOUR: i64 = 10_000_000;

/// A plain decimal as people type it, thousands separators already removed, with at most two
/// decimals ("1200", "12.5", ".25"), as hundredths; and whether it had a whole part.
pub(crate) fn hundredths(digits: &str) -> Option<(i64, bool)> {
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 2
        || !whole
            .chars()
            .chain(frac.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole_value: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    Some((
        whole_value.checked_mul(100)?.checked_add(frac)?,
        !whole.is_empty(),
    ))
}

/// A whole number with its thousands grouped: `1,234,567`.
fn grouped(whole: u64) -> String {
    let digits = whole.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Yuan as people type them ("12", "12.5", "1,200.00", "¥8") to fen: more than zero, at most
/// two decimals and `MAX_FEN_PER_GPU_HOUR`.
pub fn parse_yuan(text: &str) -> Option<i64> {
    parse_money(text, MAX_FEN_PER_GPU_HOUR)
}

/// Yuan as people type them to fen, more than zero and at most `max` fen.
pub fn parse_money(text: &str, max: i64) -> Option<i64> {
    let t = text
        .trim()
        .trim_start_matches(['¥', '￥'])
        .replace([',', '_', ' '], "");
    let (fen, has_whole) = hundredths(&t)?;
    (has_whole && (1..=max).contains(&fen)).then_some(fen)
}

/// Fen as yuan for people: `¥1,234.50`.
pub fn format_yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    format!("{sign}¥{}.{:02}", grouped(fen / 100), fen % 100)
}

/// GPU-hours as people type them ("12", "12.5", "1,000") to whole GPU-minutes. At most two
/// decimals, more than zero unless `allow_negative`, and at most a billion hours.
pub fn parse_gpu_hours(text: &str, allow_negative: bool) -> Option<i64> {
    let t = text.trim().replace([',', '_', ' '], "");
    let (negative, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    if negative && !allow_negative {
        return None;
    }
    let (hundredths, _) = hundredths(digits)?;
    let whole = hundredths / 100;
    if whole > 1_000_000_000 {
        return None;
    }
    // Hours × 60, rounding hundredths of an hour to the nearest minute.
    let minutes = whole * 60 + (hundredths % 100 * 60 + 50) / 100;
    if minutes == 0 {
        return None;
    }
    Some(if negative { -minutes } else { minutes })
}

/// GPU-minutes shown as GPU-hours with at most one decimal, grouped by thousands.
pub fn format_gpu_hours(minutes: i64) -> String {
    let tenths = (minutes.unsigned_abs() * 10 + 30) / 60;
    let sign = if minutes < 0 { "-" } else { "" };
    match tenths % 10 {
        0 => format!("{sign}{}", grouped(tenths / 10)),
        d => format!("{sign}{}.{d}", grouped(tenths / 10)),
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceView {
    pub id: i64,
    pub name: String,
    pub gpu_model: String,
    pub backend: BackendKind,
    pub cluster: String,
    pub account_pattern: String,
    pub base_url: String,
    /// Whether a signing secret or fixed Slurm token is stored (it is never sent back).
    pub has_secret: bool,
    pub repair_mode: RepairMode,
    /// Slurm: `auto`, `v0038` or `v0042`.
    pub dialect: String,
    /// Slurm: the file holding the JWT, and the user it acts as.
    pub token_file: String,
    pub token_user: String,
    /// Domestic compute, who provides it and the provider's credit code (empty: unknown).
    pub domestic: bool,
    pub provider: String,
    pub provider_credit_code: String,
    /// Slurm v0.0.42: the parent of startup accounts (empty: root), and `qos` or
    /// `association` (how the cap is enforced).
    pub parent_account: String,
    pub enforcement: String,
}

/// The sync state of one startup's allocation on one resource: its newest job.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    pub job_id: i64,
    pub status: SyncStatus,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantRow {
    pub id: i64,
    pub startup_id: i64,
    pub startup_name: String,
    pub resource_id: i64,
    pub resource_name: String,
    pub gpu_model: String,
    pub status: GrantStatus,
    /// Who pays for its hours.
    pub funding: GrantFunding,
    pub granted_minutes: i64,
    pub adjusted_minutes: i64,
    pub consumed_minutes: i64,
    pub forfeited_minutes: i64,
    pub remaining_minutes: i64,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    pub reason: String,
    pub sync: Option<SyncState>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRow {
    pub id: i64,
    pub kind: LedgerKind,
    pub minutes: i64,
    pub balance_after: i64,
    pub note: String,
    pub external_ref: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// One entry of the admin's ledger across every grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerListRow {
    pub id: i64,
    pub grant_id: i64,
    pub startup_id: i64,
    pub startup_name: String,
    pub resource_name: String,
    pub kind: LedgerKind,
    pub minutes: i64,
    pub balance_after: i64,
    pub external_ref: Option<String>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// The ledger is ordered by time only (it is too long to sort by anything unindexed).
pub const LEDGER_COLUMNS: &[crate::tables::Column] =
    &[crate::tables::col("when", "ledger.when", true)];

/// A grant's balance over time, and where the recent burn rate takes it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BurnDown {
    pub grant_id: i64,
    /// (time, remaining GPU-minutes after that change), oldest first; sampled to a few hundred.
    pub points: Vec<(DateTime<Utc>, i64)>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: DateTime<Utc>,
    /// The most the balance has been, for the chart's scale.
    pub peak_minutes: i64,
    pub remaining_minutes: i64,
    /// GPU-minutes used per day over the last 14 days.
    pub burn_per_day: i64,
    /// When the balance runs out at that rate, if before the grant ends.
    pub exhausts_at: Option<DateTime<Utc>>,
    /// When this was computed (the browser has no clock of chrono's in wasm).
    pub as_of: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantDetail {
    pub burn: BurnDown,
    pub grant: GrantRow,
    pub ledger: Vec<LedgerRow>,
    pub ledger_total: u64,
    pub page: u64,
    pub per_page: u64,
    /// Credit released by milestones, pending, released or cancelled.
    pub tranches: Vec<crate::startups::incubation::TrancheRow>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncJobRow {
    pub id: i64,
    pub startup_id: i64,
    pub startup_name: String,
    pub resource_name: String,
    pub status: SyncStatus,
    pub attempts: i32,
    pub limit_minutes: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub updated_at: DateTime<Utc>,
}

/// The admin's sync queue: sortable columns (the first is the default order, newest first).
pub const SYNC_COLUMNS: &[crate::tables::Column] = &[
    crate::tables::col("created", "sync.created", true),
    crate::tables::col("startup", "grants.startup", false),
    crate::tables::col("status", "outbox.status", false),
    crate::tables::col("attempts", "sync.attempts", true),
    crate::tables::col("next", "sync.next_attempt", false),
    crate::tables::col("updated", "sync.updated", true),
];

/// Choices for the grant form: incubating startups and the resources.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantFormOptions {
    /// The startup the grant is for, once chosen (it must be incubating).
    pub startup: Option<(i64, String)>,
    /// Incubating startups whose name matches the search, to choose from (at most 20).
    pub matches: Vec<(i64, String)>,
    pub resources: Vec<(i64, String)>,
    /// The chosen startup's planned milestones, for tranches.
    pub milestones: Vec<(i64, String)>,
}

/// A startup's credit: its team sees it on /credits, its mentors and admins on its page.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StartupCredit {
    pub startup_id: i64,
    pub startup_name: String,
    pub grants: Vec<GrantRow>,
    /// One per grant, in the order of `grants`.
    pub burns: Vec<BurnDown>,
    /// The grants taken together, one entry per resource.
    pub resources: Vec<ResourceCredit>,
    pub tranches: Vec<crate::startups::incubation::TrancheRow>,
}

/// A startup's grants on one resource taken together. GPU-minutes on different resources are
/// different things, so they are never summed across resources.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceCredit {
    pub resource_id: i64,
    pub resource_name: String,
    pub gpu_model: String,
    pub grants: usize,
    /// Granted and adjusted, over all the grants.
    pub granted_minutes: i64,
    pub consumed_minutes: i64,
    /// The balance: what the grants still hold, usable or not (a suspended grant's too).
    pub remaining_minutes: i64,
    /// The grants' balances summed over time (`grant_id` 0), and the forecast from their
    /// combined use over the last 14 days.
    pub burn: BurnDown,
}

/// One difference between the database and the cluster.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub startup_id: Option<i64>,
    pub account: String,
    pub kind: DriftKind,
    pub desired: String,
    pub remote: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftReport {
    pub resource_id: i64,
    pub resource_name: String,
    pub repair_mode: RepairMode,
    /// How many accounts the database wants on the resource.
    pub accounts: usize,
    pub drifts: Vec<Drift>,
}

#[cfg(test)]
mod tests {
    use super::{format_gpu_hours, format_yuan, parse_gpu_hours, parse_yuan};

    #[test]
    fn yuan_become_fen() {
        assert_eq!(parse_yuan("12"), Some(1200));
        assert_eq!(parse_yuan(" ¥8.5 "), Some(850));
        assert_eq!(parse_yuan("1,200.05"), Some(120_005));
        assert_eq!(parse_yuan("0.01"), Some(1));
        assert_eq!(parse_yuan("100000"), Some(10_000_000));
        for bad in [
            "",
            "0",
            "0.00",
            "-2",
            "1.234",
            "abc",
            "1e3",
            ".",
            ".5",
            "100000.01",
            "99999999999999999999",
        ] {
            assert_eq!(parse_yuan(bad), None, "{bad}");
        }
    }

    #[test]
    fn fen_are_shown_as_yuan() {
        assert_eq!(format_yuan(0), "¥0.00");
        assert_eq!(format_yuan(850), "¥8.50");
        assert_eq!(format_yuan(123_456_789), "¥1,234,567.89");
        assert_eq!(format_yuan(-1200), "-¥12.00");
    }

    #[test]
    fn gpu_hours_become_whole_minutes() {
        assert_eq!(parse_gpu_hours("10", false), Some(600));
        assert_eq!(parse_gpu_hours(" 1,000 ", false), Some(60_000));
        assert_eq!(parse_gpu_hours("0.5", false), Some(30));
        assert_eq!(parse_gpu_hours(".25", false), Some(15));
        assert_eq!(parse_gpu_hours("12.34", false), Some(740));
        assert_eq!(parse_gpu_hours("-2", true), Some(-120));
        for bad in ["", "0", "0.00", "-2", "1.234", "abc", "1e3", "--1", "."] {
            assert_eq!(parse_gpu_hours(bad, false), None, "{bad}");
        }
        assert_eq!(parse_gpu_hours("99999999999", false), None);
    }

    #[test]
    fn minutes_show_as_hours() {
        assert_eq!(format_gpu_hours(600), "10");
        assert_eq!(format_gpu_hours(90), "1.5");
        assert_eq!(format_gpu_hours(60_000_000), "1,000,000");
        assert_eq!(format_gpu_hours(-30), "-0.5");
        assert_eq!(format_gpu_hours(0), "0");
    }
}
