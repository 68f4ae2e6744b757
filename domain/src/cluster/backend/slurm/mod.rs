//! Slurm through slurmrestd: one Slurm account per startup, team members as Slurm users, and
//! the grant as a cap on gres/gpu minutes: on v0.0.42 (Slurm 24.11 … 26.05) a NoDecay QOS per
//! account (see `qos.rs`), on v0.0.38 (22.05, 23.11) the account association's GrpTRESMins.
//! Every write is read back. The dialect is the resource's choice: pinned, or `auto`, the
//! newest both sides speak, read once from the server's OpenAPI description.
//! slurmrestd is reached over TCP (`http(s)://host:port`) or its unix socket
//! (`unix:///path/slurmrestd.sock`), with a JWT (fixed, or read from a file an operator renews)
//! or without one (rest_auth/local behind a socket).
use super::{
    AllocationBackend, Desired, JobUsage, Remote, Settings, SyncError, SyncResult, CLIENT,
};
use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use reqwest::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{LazyLock, Mutex};

mod auth;
mod dialects;
mod probe;
mod qos;
pub mod v0038;
pub mod v0042;
pub use auth::token_from_file_text;
use auth::{unix_socket, Auth, Token};
pub use dialects::{dialects_in, Dialect, DialectChoice, Enforcement};
use probe::token_refused;
pub use probe::ProbeError;
use v0038 as dialect;

/// Requests sent to slurmrestd by this process (the reconciliation benchmark reports them per
/// startup).
pub static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many accounts one batch of v0.0.42 calls carries: 250 accounts' lists are about 100 KB
/// and slurmdbd 24.11 applies them in about a second per call.
pub const BATCH: usize = 250;

/// What `auto` found per slurmrestd (its base URL), for the life of the process: one read of
/// its OpenAPI description, not one per sync job.
static DETECTED: LazyLock<Mutex<HashMap<String, Dialect>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// An empty account that startup accounts are moved under and back: 22.05 can silently ignore
/// a limit update on an association that is its parent's first child, and a change of parent
/// makes it apply (used minutes are kept).
const UMBRELLA: &str = "hatchery-umbrella";

pub struct Slurm {
    /// Where requests go: for a unix socket, `http://localhost` plus the paths (the host is
    /// not used), with a client bound to the socket.
    base: url::Url,
    client: reqwest::Client,
    cluster: String,
    auth: Auth,
    choice: DialectChoice,
    /// The dialect in use, once known.
    dialect: tokio::sync::OnceCell<Dialect>,
    /// The base URL as configured: what `DETECTED` is keyed by.
    origin: String,
    /// The account startup accounts are made under (v0.0.42; `root` by default).
    parent: String,
    enforcement: Enforcement,
    /// Requests this backend sent.
    requests: std::sync::atomic::AtomicU64,
}

impl Slurm {
    pub fn new(settings: &Settings, cluster: &str) -> SyncResult<Slurm> {
        if cluster.trim().is_empty() {
            return Err(SyncError::Config("the Slurm cluster name is empty".into()));
        }
        let (base, client) = match unix_socket(&settings.base_url) {
            Some(path) => {
                // One client per socket (reqwest binds a client to one); its pool is this
                // backend's.
                let client = super::client_builder()
                    .unix_socket(path?)
                    .build()
                    .map_err(|e| SyncError::Config(format!("unix socket: {e}")))?;
                let base = url::Url::parse("http://localhost").expect("a valid URL");
                (base, client)
            }
            None => (super::base_url(&settings.base_url)?, CLIENT.clone()),
        };
        let user = Some(settings.token_user.trim().to_string()).filter(|u| !u.is_empty());
        let auth = match (settings.token_file.trim(), settings.secret.trim()) {
            ("", "") => Auth::Local,
            ("", fixed) => Auth::Jwt {
                user,
                token: Token::Fixed(fixed.to_string()),
            },
            (path, _) => Auth::Jwt {
                user,
                token: Token::File {
                    path: PathBuf::from(path),
                    current: Mutex::new(None),
                },
            },
        };
        Ok(Slurm {
            base,
            client,
            cluster: cluster.trim().to_string(),
            auth,
            choice: DialectChoice::Auto,
            dialect: tokio::sync::OnceCell::new(),
            origin: settings.base_url.trim().trim_end_matches('/').to_string(),
            parent: match settings.parent_account.trim() {
                "" => "root".to_string(),
                p => p.to_string(),
            },
            enforcement: Enforcement::parse(&settings.enforcement)?,
            requests: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// How many requests this backend has sent to slurmrestd.
    pub fn requests(&self) -> u64 {
        self.requests.load(std::sync::atomic::Ordering::Relaxed)
    }

    pub fn with_dialect(mut self, choice: DialectChoice) -> Slurm {
        self.choice = choice;
        self
    }

    /// The dialect this backend speaks: the pinned one, or the newest one the server serves
    /// of those Hatchery speaks (read once per server and process).
    pub async fn dialect(&self) -> SyncResult<Dialect> {
        if let DialectChoice::Pinned(d) = self.choice {
            return Ok(d);
        }
        self.dialect
            .get_or_try_init(|| async {
                let known = DETECTED
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .get(&self.origin)
                    .copied();
                if let Some(d) = known {
                    return Ok(d);
                }
                let served = self.served_dialects().await?;
                let d = Dialect::newest_of(&served).ok_or_else(|| {
                    SyncError::Config(format!(
                        "slurmrestd serves none of the dialects Hatchery speaks (v0.0.38, \
                         v0.0.42 to v0.0.44); it serves {served:?}"
                    ))
                })?;
                DETECTED
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(self.origin.clone(), d);
                Ok(d)
            })
            .await
            .copied()
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        self.url_of(&format!("{}{path}", dialect::PREFIX), query)
    }

    /// A URL outside the dialect's prefix (e.g. `/openapi/v3`).
    fn url_of(&self, full_path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut u = self.base.clone();
        let joined = format!("{}{full_path}", u.path().trim_end_matches('/'));
        u.set_path(&joined);
        if !query.is_empty() {
            u.query_pairs_mut().extend_pairs(query);
        }
        u
    }

    /// The accounting dialects slurmrestd serves, e.g. `["v0.0.40", "v0.0.41", "v0.0.42"]`
    /// for Slurm 24.11, from its OpenAPI description (one read; the groundwork of choosing a
    /// resource's dialect automatically).
    pub async fn served_dialects(&self) -> SyncResult<Vec<String>> {
        let v = self
            .send(Method::GET, self.url_of("/openapi/v3", &[]), None)
            .await?;
        Ok(dialects_in(&v))
    }

    /// One request and its reply's status and text, with the credentials of the moment.
    async fn exchange(
        &self,
        method: &Method,
        url: &url::Url,
        body: Option<&Value>,
    ) -> SyncResult<(reqwest::StatusCode, String)> {
        REQUESTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.requests
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut req = self
            .client
            .request(method.clone(), url.clone())
            .header("Accept", "application/json");
        if let Some(body) = body {
            req = req.json(body);
        }
        if let Auth::Jwt { user, token } = &self.auth {
            let mut value = HeaderValue::from_str(&token.current().await?)
                .map_err(|_| SyncError::Config("the Slurm token is not a valid header".into()))?;
            // Kept out of debug output and HTTP/2 header tables.
            value.set_sensitive(true);
            req = req.header("X-SLURM-USER-TOKEN", value);
            if let Some(user) = user {
                req = req.header("X-SLURM-USER-NAME", user);
            }
        }
        let res = req
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        let status = res.status();
        let text = res
            .text()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        Ok((status, text))
    }

    /// Sends, and when slurmrestd refuses the token (401; 502 with error 7000 "authentication
    /// error"; 511 with 1007) reads the token file again and, if it changed, tries once more
    /// before the reply counts as a failure.
    async fn send(&self, method: Method, url: url::Url, body: Option<&Value>) -> SyncResult<Value> {
        let (status, text) = self.exchange_authed(&method, &url, body).await?;
        let body = text;
        let v: Value = serde_json::from_str(&body).map_err(|_| {
            SyncError::Refused(format!(
                "HTTP {status}: {}",
                body.chars().take(200).collect::<String>()
            ))
        })?;
        if !status.is_success() {
            let errs = dialect::errors(&v);
            // 22.05 answers a query that matches nothing with HTTP 500 and this error.
            if errs.iter().all(|e| dialect::is_nothing_found(e)) && !errs.is_empty() {
                return Ok(serde_json::json!({}));
            }
            return Err(SyncError::Refused(format!(
                "HTTP {status}: {}",
                errs.join("; ")
            )));
        }
        Ok(v)
    }

    /// One request with the credentials of the moment, the token re-read once if refused.
    async fn exchange_authed(
        &self,
        method: &Method,
        url: &url::Url,
        body: Option<&Value>,
    ) -> SyncResult<(reqwest::StatusCode, String)> {
        let (mut status, mut text) = self.exchange(method, url, body).await?;
        if let Auth::Jwt { token, .. } = &self.auth {
            if token_refused(status.as_u16(), &text) {
                if token.reread().await? {
                    (status, text) = self.exchange(method, url, body).await?;
                }
                if token_refused(status.as_u16(), &text) {
                    return Err(SyncError::Refused(format!(
                        "slurmrestd refused the token (HTTP {status})"
                    )));
                }
            }
        }
        Ok((status, text))
    }

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> SyncResult<Value> {
        self.send(Method::GET, self.url(path, query), None).await
    }

    /// Posts and returns the reply's errors, which the caller weighs (some are bogus).
    async fn post(&self, path: &str, body: &Value) -> SyncResult<Vec<String>> {
        let v = self
            .send(Method::POST, self.url(path, &[]), Some(body))
            .await?;
        Ok(dialect::errors(&v))
    }

    async fn delete(&self, path: &str, query: &[(&str, &str)]) -> SyncResult<()> {
        let v = self
            .send(Method::DELETE, self.url(path, query), None)
            .await?;
        match dialect::errors(&v) {
            errs if errs.is_empty() => Ok(()),
            errs => Err(SyncError::Refused(errs.join("; "))),
        }
    }

    async fn rows(&self, account: &str) -> SyncResult<Vec<dialect::Assoc>> {
        let v = self
            .get(
                "/associations",
                &[("account", account), ("cluster", &self.cluster)],
            )
            .await?;
        Ok(dialect::associations(&v, &self.cluster)
            .into_iter()
            .filter(|a| a.account == account)
            .collect())
    }

    async fn set_limit(&self, account: &str, limit: i64, parent: &str) -> SyncResult<()> {
        let errs = self
            .post(
                "/associations",
                &dialect::account_association_body(account, &self.cluster, parent, Some(limit)),
            )
            .await?;
        match errs
            .into_iter()
            .find(|e| !dialect::is_bogus_missing_user(e))
        {
            Some(e) => Err(SyncError::Refused(e)),
            None => Ok(()),
        }
    }

    async fn ensure_umbrella(&self) -> SyncResult<()> {
        if self.rows(UMBRELLA).await?.iter().any(|a| a.user.is_none()) {
            return Ok(());
        }
        self.post("/accounts", &dialect::account_body(UMBRELLA, "hatchery"))
            .await?;
        self.post(
            "/associations",
            &dialect::plain_association_body(UMBRELLA, &self.cluster, "root"),
        )
        .await?;
        Ok(())
    }

    fn remote_of(account: &str, rows: &[dialect::Assoc]) -> Option<Remote> {
        let own = rows.iter().find(|a| a.user.is_none())?;
        let mut members: Vec<String> = rows.iter().filter_map(|a| a.user.clone()).collect();
        members.sort();
        members.dedup();
        Some(Remote {
            account: account.to_string(),
            limit_minutes: own.gpu_minutes,
            members,
            cap_flags_missing: Vec::new(),
            organization: None,
        })
    }
}

impl Slurm {
    /// Makes an existing account's GPU-minute cap and members equal to these, and checks by
    /// reading back that they are.
    async fn converge(&self, account: &str, limit: i64, members: &[String]) -> SyncResult<()> {
        // The cap, read back; if 22.05 ignored it, once more under the other parent.
        let rows = self.rows(account).await?;
        let own = rows.iter().find(|a| a.user.is_none());
        if own.and_then(|a| a.gpu_minutes) != Some(limit) {
            let parent = own
                .and_then(|a| a.parent.clone())
                .unwrap_or_else(|| "root".to_string());
            self.set_limit(account, limit, &parent).await?;
            let after = self.rows(account).await?;
            let now = after.iter().find(|a| a.user.is_none());
            if now.and_then(|a| a.gpu_minutes) != Some(limit) {
                let other = if parent == UMBRELLA { "root" } else { UMBRELLA };
                if other == UMBRELLA {
                    self.ensure_umbrella().await?;
                }
                self.set_limit(account, limit, other).await?;
            }
        }
        // The members: added as users of the account, removed when they left the team.
        let rows = self.rows(account).await?;
        let present: Vec<String> = rows.iter().filter_map(|a| a.user.clone()).collect();
        for login in members.iter().filter(|m| !present.contains(m)) {
            let errs = self
                .post("/users", &dialect::user_body(login, account))
                .await?;
            if let Some(e) = errs.first() {
                return Err(SyncError::Refused(e.clone()));
            }
            let errs = self
                .post(
                    "/associations",
                    &dialect::member_association_body(account, &self.cluster, login),
                )
                .await?;
            if let Some(e) = errs.first() {
                return Err(SyncError::Refused(e.clone()));
            }
        }
        for login in present.iter().filter(|p| !members.contains(p)) {
            self.delete(
                "/association",
                &[
                    ("account", account),
                    ("cluster", &self.cluster),
                    ("user", login),
                ],
            )
            .await?;
        }
        // Verify.
        let remote = self
            .read_38(account)
            .await?
            .ok_or_else(|| SyncError::NotApplied(format!("account {account} is missing")))?;
        if remote.limit_minutes != Some(limit) {
            return Err(SyncError::NotApplied(format!(
                "GrpTRESMins gres/gpu is {:?}, wanted {limit}",
                remote.limit_minutes
            )));
        }
        if remote.members != members {
            return Err(SyncError::NotApplied(format!(
                "members are {:?}, wanted {members:?}",
                remote.members
            )));
        }
        Ok(())
    }
}

impl Slurm {
    /// How many accounts `apply_batch` takes at once: many where the dialect writes lists.
    pub async fn batch_limit(&self) -> usize {
        match self.dialect().await {
            Ok(d) if d.is_v0042_family() => BATCH,
            _ => 1,
        }
    }

    /// Desired states of distinct accounts, one outcome each, in order.
    pub async fn apply_batch(&self, all: &[Desired]) -> Vec<SyncResult<()>> {
        match self.dialect().await {
            Ok(d) if d.is_v0042_family() => self.apply_many_42(all).await,
            Ok(_) => {
                let mut outcomes = Vec::with_capacity(all.len());
                for d in all {
                    outcomes.push(if d.freeze {
                        self.freeze_38(&d.account).await
                    } else {
                        self.apply_38(d).await
                    });
                }
                outcomes
            }
            Err(e) => all.iter().map(|_| Err(e.clone())).collect(),
        }
    }
}

impl AllocationBackend for Slurm {
    async fn apply(&self, desired: &Desired, _idempotency_key: &str) -> SyncResult<()> {
        match self.dialect().await? {
            Dialect::V0038 => self.apply_38(desired).await,
            _ => self.apply_42(desired).await,
        }
    }

    async fn freeze(&self, account: &str, _idempotency_key: &str) -> SyncResult<()> {
        match self.dialect().await? {
            Dialect::V0038 => self.freeze_38(account).await,
            _ => self.freeze_42(account).await,
        }
    }

    async fn read(&self, account: &str) -> SyncResult<Option<Remote>> {
        match self.dialect().await? {
            Dialect::V0038 => self.read_38(account).await,
            _ => self.read_42(account).await,
        }
    }

    async fn accounts(&self, prefix: &str) -> SyncResult<Vec<Remote>> {
        match self.dialect().await? {
            Dialect::V0038 => self.accounts_38(prefix).await,
            _ => self.accounts_42(prefix).await,
        }
    }

    async fn usage(
        &self,
        account: &str,
        since: Option<DateTime<Utc>>,
    ) -> SyncResult<Vec<JobUsage>> {
        match self.dialect().await? {
            // 22.05's jobs query takes no window: the whole history each pass.
            Dialect::V0038 => self.usage_38(account).await,
            _ => self.usage_42(account, since).await,
        }
    }
}

/// v0.0.38: the cap is the account association's GrpTRESMins.
impl Slurm {
    async fn apply_38(&self, desired: &Desired) -> SyncResult<()> {
        // The account (posting it again updates it).
        let errs = self
            .post(
                "/accounts",
                &dialect::account_body(&desired.account, &desired.organization),
            )
            .await?;
        if let Some(e) = errs.first() {
            return Err(SyncError::Refused(e.clone()));
        }
        self.converge(&desired.account, desired.limit_minutes, &desired.members)
            .await
    }

    /// GrpTRESMins gres/gpu=0 and every user's association removed; the account and its
    /// usage stay in slurmdbd.
    async fn freeze_38(&self, account: &str) -> SyncResult<()> {
        if self.read_38(account).await?.is_none() {
            return Ok(());
        }
        self.converge(account, 0, &[]).await
    }

    async fn read_38(&self, account: &str) -> SyncResult<Option<Remote>> {
        let rows = self.rows(account).await?;
        Ok(Slurm::remote_of(account, &rows))
    }

    async fn accounts_38(&self, prefix: &str) -> SyncResult<Vec<Remote>> {
        let v = self
            .get("/associations", &[("cluster", &self.cluster)])
            .await?;
        let rows = dialect::associations(&v, &self.cluster);
        let mut names: Vec<&str> = rows
            .iter()
            .map(|a| a.account.as_str())
            .filter(|a| a.starts_with(prefix))
            .collect();
        names.sort();
        names.dedup();
        Ok(names
            .into_iter()
            .filter_map(|name| {
                let own: Vec<dialect::Assoc> =
                    rows.iter().filter(|a| a.account == name).cloned().collect();
                Slurm::remote_of(name, &own)
            })
            .collect())
    }

    async fn usage_38(&self, account: &str) -> SyncResult<Vec<JobUsage>> {
        let v = self.get("/jobs", &[("account", account)]).await?;
        Ok(dialect::finished_jobs(&v, &self.cluster)
            .into_iter()
            .filter(|j| j.account == account)
            .collect())
    }
}

#[cfg(test)]
mod tests;
