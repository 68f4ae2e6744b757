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

mod qos;
pub mod v0038;
pub mod v0042;
use v0038 as dialect;

/// The slurmrestd dialects Hatchery speaks, oldest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// `/slurmdb/v0.0.38`: Slurm 22.05 and 23.11.
    V0038,
    /// `/slurmdb/v0.0.42`: Slurm 24.11, 25.05, 25.11 and 26.05 (deprecated there).
    V0042,
    /// `/slurmdb/v0.0.43`: Slurm 25.05 to 26.05; the JSON Hatchery uses is v0.0.42's.
    V0043,
    /// `/slurmdb/v0.0.44`: Slurm 25.11 and 26.05; the JSON Hatchery uses is v0.0.42's.
    V0044,
}

impl Dialect {
    pub const ALL: [Dialect; 4] = [
        Dialect::V0038,
        Dialect::V0042,
        Dialect::V0043,
        Dialect::V0044,
    ];

    /// The resource setting's value, e.g. `v0042`.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::V0038 => "v0038",
            Dialect::V0042 => "v0042",
            Dialect::V0043 => "v0043",
            Dialect::V0044 => "v0044",
        }
    }

    /// As it appears in slurmrestd's paths, e.g. `v0.0.42`.
    pub fn version(self) -> &'static str {
        match self {
            Dialect::V0038 => "v0.0.38",
            Dialect::V0042 => "v0.0.42",
            Dialect::V0043 => "v0.0.43",
            Dialect::V0044 => "v0.0.44",
        }
    }

    /// Whether this is one of the list-writing dialects whose JSON is v0.0.42's (v0.0.43 and
    /// v0.0.44 differ from it only in fields Hatchery does not use: see `v0042`'s header).
    pub fn is_v0042_family(self) -> bool {
        self != Dialect::V0038
    }

    /// The newest dialect of ours among those a slurmrestd serves (`dialects_in`).
    pub fn newest_of(served: &[String]) -> Option<Dialect> {
        Dialect::ALL
            .into_iter()
            .rev()
            .find(|d| served.iter().any(|s| s == d.version()))
    }
}

/// How a v0.0.42 resource holds a startup to its cap (the resource's `enforcement` setting).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Enforcement {
    /// A QOS per account with `NO_DECAY,DENY_LIMIT`: a lifetime cap whatever the site's
    /// fair-share decay.
    #[default]
    Qos,
    /// GrpTRESMins on the account's association: a lifetime cap only where
    /// `PriorityDecayHalfLife=0` (otherwise used minutes decay and the cap is exceeded).
    Association,
}

impl Enforcement {
    /// The setting's value: `qos` (also when empty) or `association`.
    pub fn parse(text: &str) -> SyncResult<Enforcement> {
        match text.trim() {
            "" | "qos" => Ok(Enforcement::Qos),
            "association" => Ok(Enforcement::Association),
            other => Err(SyncError::Config(format!(
                "unknown enforcement {other} (qos or association)"
            ))),
        }
    }
}

/// Requests sent to slurmrestd by this process (the reconciliation benchmark reports them per
/// startup).
pub static REQUESTS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many accounts one batch of v0.0.42 calls carries: 250 accounts' lists are about 100 KB
/// and slurmdbd 24.11 applies them in about a second per call.
pub const BATCH: usize = 250;

/// A resource's choice of dialect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialectChoice {
    /// The newest dialect both sides speak, read from `GET /openapi/v3` once.
    Auto,
    Pinned(Dialect),
}

impl DialectChoice {
    /// The resource's `dialect` column: `auto` (also when empty), `v0038` or `v0042`.
    pub fn parse(text: &str) -> SyncResult<DialectChoice> {
        match text.trim() {
            "" | "auto" => Ok(DialectChoice::Auto),
            other => Dialect::ALL
                .into_iter()
                .find(|d| d.name() == other)
                .map(DialectChoice::Pinned)
                .ok_or_else(|| SyncError::Config(format!("unknown Slurm dialect {other}"))),
        }
    }
}

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

/// How slurmrestd learns who is asking.
enum Auth {
    /// No token: slurmrestd with rest_auth/local trusts the process at the other end of its
    /// unix socket (Slurm 22.05's test rig).
    Local,
    /// `X-SLURM-USER-TOKEN` (and `X-SLURM-USER-NAME` when a user is set; the token names its
    /// user otherwise).
    Jwt { user: Option<String>, token: Token },
}

enum Token {
    /// Stored in the resource's settings as a secret.
    Fixed(String),
    /// A file an operator renews (`scontrol token lifespan=… > FILE` from cron): read on first
    /// use and again when slurmrestd refuses the token it held.
    File {
        path: PathBuf,
        current: Mutex<Option<String>>,
    },
}

/// A token file's text: the bare JWT, or `scontrol token`'s `SLURM_JWT=…` line.
pub fn token_from_file_text(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let jwt = line.strip_prefix("SLURM_JWT=").unwrap_or(line).trim();
    (!jwt.is_empty()).then(|| jwt.to_string())
}

impl Token {
    async fn read_file(path: &PathBuf) -> SyncResult<String> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| SyncError::Config(format!("Slurm token file {}: {e}", path.display())))?;
        token_from_file_text(&text).ok_or_else(|| {
            SyncError::Config(format!("Slurm token file {} is empty", path.display()))
        })
    }

    async fn current(&self) -> SyncResult<String> {
        match self {
            Token::Fixed(t) => Ok(t.clone()),
            Token::File { path, current } => {
                if let Some(t) = current.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                    return Ok(t);
                }
                let t = Token::read_file(path).await?;
                *current.lock().unwrap_or_else(|e| e.into_inner()) = Some(t.clone());
                Ok(t)
            }
        }
    }

    /// Reads the file again; true when it now holds another token (worth one more try).
    async fn reread(&self) -> SyncResult<bool> {
        match self {
            Token::Fixed(_) => Ok(false),
            Token::File { path, current } => {
                let fresh = Token::read_file(path).await?;
                let mut held = current.lock().unwrap_or_else(|e| e.into_inner());
                let changed = held.as_deref() != Some(fresh.as_str());
                *held = Some(fresh);
                Ok(changed)
            }
        }
    }
}

/// `unix:///path/to/slurmrestd.sock` → the socket's path.
fn unix_socket(base_url: &str) -> Option<SyncResult<PathBuf>> {
    let path = base_url.trim().strip_prefix("unix://")?;
    Some(if path.starts_with('/') && path.len() > 1 {
        Ok(PathBuf::from(path))
    } else {
        Err(SyncError::Config(
            "base URL must be http(s)://host or unix:///absolute/path.sock".into(),
        ))
    })
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

/// What is wrong with a Slurm resource's settings, as found by asking its slurmrestd: each
/// names the one setting to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// Nothing answers at the base URL (or not slurmrestd).
    Unreachable(String),
    /// The token file cannot be read or is empty.
    TokenFile(String),
    /// slurmrestd wants a token and got none, or refused the one given.
    TokenRefused,
    /// The pinned dialect is not among those the server serves.
    DialectNotServed { served: Vec<String> },
    /// The server serves none of the dialects Hatchery speaks.
    NoDialect { served: Vec<String> },
    /// slurmdbd knows no cluster of that name.
    UnknownCluster,
    /// The parent account (v0.0.42) is not an account of the cluster.
    UnknownParent,
}

impl Slurm {
    /// Checks a resource's settings against its cluster before they are stored: slurmrestd
    /// answers, serves the dialect (pinned, or one for `auto`), accepts the token, and its
    /// slurmdbd knows the cluster. Only reads. Returns the dialect the resource will speak.
    pub async fn probe(&self) -> Result<Dialect, ProbeError> {
        let served = self.served_dialects().await.map_err(|e| match e {
            SyncError::Config(m) => ProbeError::TokenFile(m),
            SyncError::Refused(m) if m.contains("token") || m.contains("HTTP 401") => {
                ProbeError::TokenRefused
            }
            other => ProbeError::Unreachable(other.to_string()),
        })?;
        let dialect = match self.choice {
            DialectChoice::Pinned(d) if served.iter().any(|s| s == d.version()) => d,
            DialectChoice::Pinned(_) => return Err(ProbeError::DialectNotServed { served }),
            DialectChoice::Auto => {
                Dialect::newest_of(&served).ok_or(ProbeError::NoDialect { served })?
            }
        };
        // slurmdbd checks the token (the OpenAPI description does not) and knows the cluster.
        let path = format!("/slurmdb/{}/cluster/{}", dialect.version(), self.cluster);
        let (status, text) = self
            .exchange_authed(&Method::GET, &self.url_of(&path, &[]), None)
            .await
            .map_err(|e| match e {
                SyncError::Config(m) => ProbeError::TokenFile(m),
                SyncError::Refused(_) => ProbeError::TokenRefused,
                other => ProbeError::Unreachable(other.to_string()),
            })?;
        if status.as_u16() == 401 {
            return Err(ProbeError::TokenRefused);
        }
        let v: Value = serde_json::from_str(&text).map_err(|_| {
            ProbeError::Unreachable(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ))
        })?;
        let known = v
            .get("clusters")
            .and_then(Value::as_array)
            .is_some_and(|l| {
                l.iter()
                    .any(|c| c.get("name").and_then(Value::as_str) == Some(self.cluster.as_str()))
            });
        if !known {
            return Err(ProbeError::UnknownCluster);
        }
        // Startup accounts are made under the parent: it must be there (root always is).
        if dialect.is_v0042_family() && self.parent != "root" {
            let path = format!("/slurmdb/{}/associations/", dialect.version());
            let query = [
                ("account", self.parent.as_str()),
                ("cluster", &self.cluster),
            ];
            let (_, text) = self
                .exchange_authed(&Method::GET, &self.url_of(&path, &query), None)
                .await
                .map_err(|e| ProbeError::Unreachable(e.to_string()))?;
            let rows = serde_json::from_str::<Value>(&text)
                .map(|v| v0042::associations(&v, &self.cluster))
                .unwrap_or_default();
            if !rows
                .iter()
                .any(|a| a.account == self.parent && a.is_account_row())
            {
                return Err(ProbeError::UnknownParent);
            }
        }
        if self.choice == DialectChoice::Auto {
            DETECTED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(self.origin.clone(), dialect);
        }
        Ok(dialect)
    }
}

/// The `v0.0.NN` of every `/slurmdb/v0.0.NN/…` path of an OpenAPI description, sorted.
pub fn dialects_in(openapi: &Value) -> Vec<String> {
    let mut found: Vec<String> = openapi
        .get("paths")
        .and_then(Value::as_object)
        .map(|paths| {
            paths
                .keys()
                .filter_map(|p| p.strip_prefix("/slurmdb/")?.split('/').next())
                .filter(|v| v.starts_with("v0.0."))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    found.sort_by_key(|v| v["v0.0.".len()..].parse::<u32>().unwrap_or(0));
    found.dedup();
    found
}

/// Whether a reply says the credentials were missing or the token refused (the same in every
/// dialect that has JWT).
fn token_refused(status: u16, text: &str) -> bool {
    matches!(
        v0042::classify(status, text),
        Err(v0042::Failure::NoCredentials | v0042::Failure::BadToken(_))
    )
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
mod tests {
    use super::*;

    fn settings(base_url: &str) -> Settings {
        Settings {
            base_url: base_url.into(),
            ..Settings::default()
        }
    }

    #[test]
    fn a_token_file_holds_the_jwt_or_scontrols_line() {
        assert_eq!(token_from_file_text("eyJabc\n").as_deref(), Some("eyJabc"));
        assert_eq!(
            token_from_file_text("SLURM_JWT=eyJabc\n").as_deref(),
            Some("eyJabc")
        );
        assert_eq!(token_from_file_text("\n  \n"), None);
        assert_eq!(token_from_file_text("SLURM_JWT="), None);
    }

    #[test]
    fn base_urls_may_be_a_unix_socket() {
        let s = Slurm::new(&settings("unix:///run/slurmrestd/slurmrestd.sock"), "ci").unwrap();
        assert_eq!(
            s.url("/associations", &[("account", "a,b")]).as_str(),
            "http://localhost/slurmdb/v0.0.38/associations?account=a%2Cb"
        );
        assert!(matches!(s.auth, Auth::Local));
        for bad in [
            "unix://relative.sock",
            "unix://",
            "ftp://host",
            "localhost:6820",
        ] {
            assert!(
                matches!(Slurm::new(&settings(bad), "ci"), Err(SyncError::Config(_))),
                "{bad}"
            );
        }
        let tcp = Slurm::new(&settings("http://127.0.0.1:6920/"), "ci").unwrap();
        assert_eq!(
            tcp.url_of("/openapi/v3", &[]).as_str(),
            "http://127.0.0.1:6920/openapi/v3"
        );
    }

    #[test]
    fn a_token_file_wins_over_a_fixed_token() {
        let mut s = settings("http://127.0.0.1:6920");
        s.secret = "eyJfixed".into();
        s.token_user = " slurm ".into();
        match Slurm::new(&s, "ci").unwrap().auth {
            Auth::Jwt {
                user,
                token: Token::Fixed(t),
            } => {
                assert_eq!(user.as_deref(), Some("slurm"));
                assert_eq!(t, "eyJfixed");
            }
            _ => panic!("a fixed token"),
        }
        s.token_file = "/var/lib/hatchery/slurm.jwt".into();
        assert!(matches!(
            Slurm::new(&s, "ci").unwrap().auth,
            Auth::Jwt {
                token: Token::File { .. },
                ..
            }
        ));
    }

    #[test]
    fn settings_keep_old_rows_readable_and_the_token_out_of_logs() {
        let old: Settings = serde_json::from_str(r#"{"base_url":"http://x","secret":""}"#).unwrap();
        assert_eq!(old.token_file, "");
        assert_eq!(
            serde_json::to_string(&old).unwrap(),
            r#"{"base_url":"http://x","secret":""}"#
        );
        let s = Settings {
            secret: "eyJsecret-token".into(),
            token_file: "/etc/slurm.jwt".into(),
            ..old
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("eyJsecret-token"), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("/etc/slurm.jwt"));
    }

    #[test]
    fn a_refused_token_is_told_from_other_failures() {
        assert!(token_refused(401, "Authentication failure"));
        assert!(token_refused(502, include_str!("fixtures/error_7000.json")));
        assert!(token_refused(511, include_str!("fixtures/error_1007.json")));
        assert!(!token_refused(
            502,
            include_str!("fixtures/error_7000_slurmdbd_down.json")
        ));
        assert!(!token_refused(
            500,
            include_str!("fixtures/error_2002.json")
        ));
        assert!(!token_refused(200, r#"{"errors":[],"warnings":[]}"#));
    }

    #[test]
    fn auto_takes_the_newest_dialect_both_sides_speak() {
        let served = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        // 24.11 serves 40-42; 22.05 only 38; 25.11 serves 41-44; master has dropped 42.
        assert_eq!(
            Dialect::newest_of(&served(&["v0.0.40", "v0.0.41", "v0.0.42"])),
            Some(Dialect::V0042)
        );
        assert_eq!(
            Dialect::newest_of(&served(&["v0.0.38"])),
            Some(Dialect::V0038)
        );
        assert_eq!(
            Dialect::newest_of(&served(&["v0.0.41", "v0.0.42", "v0.0.43", "v0.0.44"])),
            Some(Dialect::V0044)
        );
        assert_eq!(
            Dialect::newest_of(&served(&["v0.0.40", "v0.0.41", "v0.0.42", "v0.0.43"])),
            Some(Dialect::V0043)
        );
        // 26.11 will serve v0.0.43 and newer only.
        assert_eq!(
            Dialect::newest_of(&served(&["v0.0.43", "v0.0.44", "v0.0.45"])),
            Some(Dialect::V0044)
        );
        assert_eq!(Dialect::newest_of(&served(&["v0.0.40", "v0.0.41"])), None);
        for d in Dialect::ALL {
            assert_eq!(DialectChoice::parse(d.name()), Ok(DialectChoice::Pinned(d)));
        }
        assert_eq!(DialectChoice::parse("").unwrap(), DialectChoice::Auto);
        assert_eq!(DialectChoice::parse("auto").unwrap(), DialectChoice::Auto);
        assert_eq!(
            DialectChoice::parse("v0042").unwrap(),
            DialectChoice::Pinned(Dialect::V0042)
        );
        assert!(matches!(
            DialectChoice::parse("v0.0.42"),
            Err(SyncError::Config(_))
        ));
    }

    #[test]
    fn reads_the_dialects_a_slurmrestd_serves() {
        let v: Value = serde_json::from_str(include_str!("fixtures/openapi_paths.json")).unwrap();
        assert_eq!(dialects_in(&v), ["v0.0.40", "v0.0.41", "v0.0.42"]);
        assert!(dialects_in(&serde_json::json!({})).is_empty());
    }

    /// Against the Slurm 24.11 of scripts/slurm-2411.sh, when its variables are set (`eval
    /// "$(scripts/slurm-2411.sh env)"`, as root: the token file is root's): the unix socket,
    /// a token file replaced while in use, a fixed token over TCP, no token at all.
    #[tokio::test]
    async fn slurm_2411_socket_and_tokens() {
        let (Ok(socket), Ok(tcp), Ok(token_file)) = (
            std::env::var("SLURM2411_SOCKET_URL"),
            std::env::var("SLURM2411_URL"),
            std::env::var("SLURM2411_TOKEN_FILE"),
        ) else {
            eprintln!("SLURM2411_* not set: skipped (run scripts/slurm-2411.sh up)");
            return;
        };
        let good = token_from_file_text(&std::fs::read_to_string(&token_file).unwrap()).unwrap();
        let file = std::env::temp_dir().join(format!("hatchery-jwt-{}", std::process::id()));
        std::fs::write(&file, "SLURM_JWT=eyJnot-a-token\n").unwrap();
        let mut s = settings(&socket);
        s.token_file = file.display().to_string();
        s.token_user = "slurm".into();
        let slurm = Slurm::new(&s, "ci2411").unwrap();
        let diag = || {
            slurm.send(
                Method::GET,
                slurm.url_of("/slurmdb/v0.0.42/diag", &[]),
                None,
            )
        };

        // The OpenAPI description needs a token but does not check it.
        let dialects = slurm.served_dialects().await.unwrap();
        assert!(dialects.contains(&"v0.0.42".to_string()), "{dialects:?}");
        // A bad token, and the file still holds it: one re-read, then a failure that names
        // neither token.
        match diag().await {
            Err(SyncError::Refused(m)) => {
                assert!(m.contains("refused the token"), "{m}");
                assert!(!m.contains("eyJ"), "{m}");
            }
            other => panic!("{other:?}"),
        }
        // The operator's cron replaces the file: the held (bad) token is refused, the file is
        // read again and the request goes through.
        std::fs::write(&file, format!("{good}\n")).unwrap();
        let v = diag().await.unwrap();
        assert!(v.get("statistics").is_some(), "{v}");
        std::fs::remove_file(&file).unwrap();
        // A missing token file is the resource's misconfiguration.
        match Slurm::new(&s, "ci2411")
            .unwrap()
            .send(
                Method::GET,
                slurm.url_of("/slurmdb/v0.0.42/diag", &[]),
                None,
            )
            .await
        {
            Err(SyncError::Config(m)) => assert!(m.contains("token file"), "{m}"),
            other => panic!("{other:?}"),
        }

        // A fixed token over TCP.
        let mut fixed = settings(&tcp);
        fixed.secret = good;
        let slurm = Slurm::new(&fixed, "ci2411").unwrap();
        slurm
            .send(
                Method::GET,
                slurm.url_of("/slurmdb/v0.0.42/diag", &[]),
                None,
            )
            .await
            .unwrap();
        // No token at all: 401.
        let slurm = Slurm::new(&settings(&socket), "ci2411").unwrap();
        match slurm
            .send(
                Method::GET,
                slurm.url_of("/slurmdb/v0.0.42/diag", &[]),
                None,
            )
            .await
        {
            Err(SyncError::Refused(m)) => assert!(m.contains("401"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
