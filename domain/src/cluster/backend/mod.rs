//! Where allocations are enforced. One trait, three backends: Slurm through slurmrestd, the
//! published HTTP contract, and none (grants are tracked, nothing is pushed).
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;
use wire::credits::BackendKind;

pub mod http;
pub mod slurm;

/// What the cluster should hold for one startup on one resource.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desired {
    pub account: String,
    pub organization: String,
    /// GPU-minutes the account may ever use: granted minus forfeited over all its grants.
    pub limit_minutes: i64,
    /// Cluster logins of the team, sorted.
    pub members: Vec<String>,
    /// An orphan account (no startup's grants explain it) to freeze rather than an allocation
    /// to apply: the limit is 0 and there are no members.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub freeze: bool,
}

impl Desired {
    /// What the cluster should hold for an orphan account: no further use, nobody in it.
    pub fn frozen(account: &str) -> Desired {
        Desired {
            account: account.to_string(),
            organization: String::new(),
            limit_minutes: 0,
            members: Vec::new(),
            freeze: true,
        }
    }
}

impl Remote {
    /// As a freeze leaves an account: a limit of 0 GPU-minutes and no members.
    pub fn is_frozen(&self) -> bool {
        self.limit_minutes == Some(0) && self.members.is_empty()
    }
}

/// What the cluster holds for one account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remote {
    pub account: String,
    /// None when no GPU-minute limit is set (the account could use GPUs without bound).
    pub limit_minutes: Option<i64>,
    pub members: Vec<String>,
    /// Where the cap is a QOS (Slurm v0.0.42): the flags it needs and lacks, e.g. `NO_DECAY`
    /// (without it the cap decays with fair-share and is no lifetime cap). Empty elsewhere.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cap_flags_missing: Vec<String>,
    /// The account's organization where the backend reports it (Slurm v0.0.42+), else None.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
}

/// One finished job's GPU use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JobUsage {
    /// Unique per resource, e.g. `ci:1234`.
    pub job_ref: String,
    pub account: String,
    pub gpu_minutes: i64,
    pub ended_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("cannot reach the allocation API: {0}")]
    Unreachable(String),
    #[error("the allocation API refused: {0}")]
    Refused(String),
    #[error("written but not in force: {0}")]
    NotApplied(String),
    #[error("the resource is misconfigured: {0}")]
    Config(String),
}

pub type SyncResult<T> = Result<T, SyncError>;

/// The operations Hatchery needs from a cluster. Every write is idempotent: applying the same
/// desired state twice leaves the cluster as after once.
pub trait AllocationBackend {
    /// Makes the account, its GPU-minute limit and its members equal to `desired`, and checks
    /// by reading back that they are.
    fn apply(
        &self,
        desired: &Desired,
        idempotency_key: &str,
    ) -> impl Future<Output = SyncResult<()>> + Send;
    /// Freezes an orphan account: no further GPU use and no members, checked by reading back.
    /// The account is not deleted where that would lose its usage history (Slurm sets its
    /// limit to 0); an allocation API removes the allocation, which stops its use. An absent
    /// account is already frozen.
    fn freeze(
        &self,
        account: &str,
        idempotency_key: &str,
    ) -> impl Future<Output = SyncResult<()>> + Send;
    fn read(&self, account: &str) -> impl Future<Output = SyncResult<Option<Remote>>> + Send;
    /// Every account on the cluster whose name starts with `prefix`.
    fn accounts(&self, prefix: &str) -> impl Future<Output = SyncResult<Vec<Remote>>> + Send;
    /// Finished jobs of an account; with `since`, at least those that ended from then on (a
    /// backend may return more: the import is idempotent per job).
    fn usage(
        &self,
        account: &str,
        since: Option<DateTime<Utc>>,
    ) -> impl Future<Output = SyncResult<Vec<JobUsage>>> + Send;
}

/// One HTTP client for the whole process, with timeouts that keep a dead cluster from
/// holding a worker.
pub(crate) static CLIENT: LazyLock<reqwest::Client> =
    LazyLock::new(|| client_builder().build().unwrap_or_default());

/// A client's settings: those timeouts, and the process's TLS provider installed first if
/// nothing installed one yet (ring, as lettre and sqlx use): reqwest panics when it builds a
/// client without one.
pub(crate) fn client_builder() -> reqwest::ClientBuilder {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(30))
}

/// A resource's backend, built from its row.
pub enum Backend {
    Slurm(slurm::Slurm),
    Http(http::HttpContract),
    None,
}

#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// `http(s)://host[:port]`; for Slurm also `unix:///path/slurmrestd.sock`.
    #[serde(default)]
    pub base_url: String,
    /// The HTTP contract's signing secret, or a Slurm resource's fixed JWT. Never sent back to
    /// the browser, never logged.
    #[serde(default)]
    pub secret: String,
    /// Slurm: a file holding the current JWT, renewed by the operator (e.g. from cron with
    /// `scontrol token lifespan=…`); read again when slurmrestd refuses the token. Takes
    /// precedence over a fixed token in `secret`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    /// Slurm: the user the token acts as (`X-SLURM-USER-NAME`); empty sends the token alone,
    /// which names its user.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub token_user: String,
    /// Slurm v0.0.42: the account that startup accounts are made under (empty: `root`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub parent_account: String,
    /// Slurm v0.0.42: `qos` (empty: the default) or `association` (see `slurm::Enforcement`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub enforcement: String,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("base_url", &self.base_url)
            .field(
                "secret",
                &if self.secret.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("token_file", &self.token_file)
            .field("token_user", &self.token_user)
            .field("parent_account", &self.parent_account)
            .field("enforcement", &self.enforcement)
            .finish()
    }
}

impl Backend {
    pub fn for_resource(r: &crate::credits::entity::resource::Model) -> SyncResult<Backend> {
        let settings: Settings = serde_json::from_str(&r.settings)
            .map_err(|e| SyncError::Config(format!("settings: {e}")))?;
        match r.backend {
            BackendKind::Slurm => Ok(Backend::Slurm(
                slurm::Slurm::new(&settings, &r.cluster)?
                    .with_dialect(slurm::DialectChoice::parse(&r.dialect)?),
            )),
            BackendKind::Http => Ok(Backend::Http(http::HttpContract::new(
                &settings.base_url,
                &settings.secret,
            )?)),
            BackendKind::TrackOnly => Ok(Backend::None),
        }
    }
}

impl Backend {
    /// How many jobs of one resource are worth applying together (1: one at a time).
    pub async fn batch_limit(&self) -> usize {
        match self {
            Backend::Slurm(b) => b.batch_limit().await,
            Backend::Http(_) | Backend::None => 1,
        }
    }

    /// Applies (or freezes) the desired states of distinct accounts, each with its job's
    /// idempotency key; one outcome per entry, in order.
    pub async fn apply_batch(&self, jobs: &[(Desired, String)]) -> Vec<SyncResult<()>> {
        if let Backend::Slurm(b) = self {
            let all: Vec<Desired> = jobs.iter().map(|(d, _)| d.clone()).collect();
            return b.apply_batch(&all).await;
        }
        let mut outcomes = Vec::with_capacity(jobs.len());
        for (d, key) in jobs {
            outcomes.push(if d.freeze {
                self.freeze(&d.account, key).await
            } else {
                self.apply(d, key).await
            });
        }
        outcomes
    }
}

impl AllocationBackend for Backend {
    async fn apply(&self, desired: &Desired, key: &str) -> SyncResult<()> {
        match self {
            Backend::Slurm(b) => b.apply(desired, key).await,
            Backend::Http(b) => b.apply(desired, key).await,
            Backend::None => Ok(()),
        }
    }

    async fn freeze(&self, account: &str, key: &str) -> SyncResult<()> {
        match self {
            Backend::Slurm(b) => b.freeze(account, key).await,
            Backend::Http(b) => b.freeze(account, key).await,
            Backend::None => Ok(()),
        }
    }

    async fn read(&self, account: &str) -> SyncResult<Option<Remote>> {
        match self {
            Backend::Slurm(b) => b.read(account).await,
            Backend::Http(b) => b.read(account).await,
            Backend::None => Ok(None),
        }
    }

    async fn accounts(&self, prefix: &str) -> SyncResult<Vec<Remote>> {
        match self {
            Backend::Slurm(b) => b.accounts(prefix).await,
            Backend::Http(b) => b.accounts(prefix).await,
            Backend::None => Ok(Vec::new()),
        }
    }

    async fn usage(
        &self,
        account: &str,
        since: Option<DateTime<Utc>>,
    ) -> SyncResult<Vec<JobUsage>> {
        match self {
            Backend::Slurm(b) => b.usage(account, since).await,
            Backend::Http(b) => b.usage(account, since).await,
            Backend::None => Ok(Vec::new()),
        }
    }
}

/// Checks a base URL: http or https, with a host, no trailing slash kept.
pub fn base_url(text: &str) -> SyncResult<url::Url> {
    let trimmed = text.trim().trim_end_matches('/');
    let u = url::Url::parse(trimmed).map_err(|e| SyncError::Config(format!("base URL: {e}")))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(SyncError::Config("base URL must be http(s)://host".into()));
    }
    Ok(u)
}
