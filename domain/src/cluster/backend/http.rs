//! The HTTP allocation contract (docs/allocation-api.yaml), for platforms that are not Slurm.
//! Every request is signed: `X-Hatchery-Signature: sha256=<hex HMAC-SHA256 of
//! "<timestamp>\n<METHOD>\n<path>\n<body>">` with the resource's secret, and writes carry an
//! `Idempotency-Key` so that a retried PUT is applied once.
use super::{AllocationBackend, Desired, JobUsage, Remote, SyncError, SyncResult, CLIENT};
use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

pub struct HttpContract {
    base: url::Url,
    secret: String,
}

#[derive(Serialize, Deserialize)]
pub struct AllocationBody {
    pub account: String,
    pub organization: String,
    pub limit_minutes: i64,
    pub members: Vec<String>,
}

#[derive(Deserialize)]
struct AllocationList {
    allocations: Vec<AllocationBody>,
}

#[derive(Deserialize)]
struct JobList {
    jobs: Vec<JobBody>,
}

#[derive(Deserialize)]
struct JobBody {
    job_id: String,
    gpu_minutes: i64,
    ended_at: DateTime<Utc>,
}

/// The signature of one request, as the far side recomputes it.
pub fn signature(secret: &str, timestamp: i64, method: &str, path: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{timestamp}\n{method}\n{path}\n").as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

impl HttpContract {
    pub fn new(base_url: &str, secret: &str) -> SyncResult<HttpContract> {
        if secret.len() < 16 {
            return Err(SyncError::Config(
                "the signing secret must have at least 16 characters".into(),
            ));
        }
        Ok(HttpContract {
            base: super::base_url(base_url)?,
            secret: secret.to_string(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        query: Option<(&str, &str)>,
        body: Option<Vec<u8>>,
        key: Option<&str>,
    ) -> SyncResult<Option<String>> {
        let mut u = self.base.clone();
        let full = format!("{}{}", u.path().trim_end_matches('/'), path);
        u.set_path(&full);
        if let Some((k, v)) = query {
            u.query_pairs_mut().append_pair(k, v);
        }
        let ts = Utc::now().timestamp();
        let body = body.unwrap_or_default();
        let sig = signature(&self.secret, ts, method.as_str(), u.path(), &body);
        let mut req = CLIENT
            .request(method, u)
            .header("X-Hatchery-Timestamp", ts.to_string())
            .header("X-Hatchery-Signature", sig)
            .header("Accept", "application/json");
        if let Some(k) = key {
            req = req.header("Idempotency-Key", k);
        }
        if !body.is_empty() {
            req = req.header("Content-Type", "application/json").body(body);
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
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(SyncError::Refused(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            )));
        }
        Ok(Some(text))
    }

    fn path_of(account: &str) -> String {
        let encoded: String = url::form_urlencoded::byte_serialize(account.as_bytes()).collect();
        format!("/allocations/{encoded}")
    }
}

fn parse<T: for<'de> Deserialize<'de>>(text: &str) -> SyncResult<T> {
    serde_json::from_str(text).map_err(|e| SyncError::Refused(format!("unexpected reply: {e}")))
}

impl AllocationBackend for HttpContract {
    async fn apply(&self, desired: &Desired, key: &str) -> SyncResult<()> {
        let body = serde_json::to_vec(&AllocationBody {
            account: desired.account.clone(),
            organization: desired.organization.clone(),
            limit_minutes: desired.limit_minutes,
            members: desired.members.clone(),
        })
        .map_err(|e| SyncError::Config(e.to_string()))?;
        self.call(
            reqwest::Method::PUT,
            &Self::path_of(&desired.account),
            None,
            Some(body),
            Some(key),
        )
        .await?
        .ok_or_else(|| SyncError::Refused("PUT answered 404".into()))?;
        let remote = self
            .read(&desired.account)
            .await?
            .ok_or_else(|| SyncError::NotApplied("the allocation is missing".into()))?;
        if remote.limit_minutes != Some(desired.limit_minutes) || remote.members != desired.members
        {
            return Err(SyncError::NotApplied(format!(
                "read back {:?} / {:?}",
                remote.limit_minutes, remote.members
            )));
        }
        Ok(())
    }

    /// A signed DELETE of the allocation (404 counts as done: already absent), read back.
    async fn freeze(&self, account: &str, key: &str) -> SyncResult<()> {
        self.call(
            reqwest::Method::DELETE,
            &Self::path_of(account),
            None,
            None,
            Some(key),
        )
        .await?;
        match self.read(account).await? {
            None => Ok(()),
            Some(_) => Err(SyncError::NotApplied(format!(
                "the allocation {account} is still there"
            ))),
        }
    }

    async fn read(&self, account: &str) -> SyncResult<Option<Remote>> {
        let Some(text) = self
            .call(
                reqwest::Method::GET,
                &Self::path_of(account),
                None,
                None,
                None,
            )
            .await?
        else {
            return Ok(None);
        };
        let a: AllocationBody = parse(&text)?;
        let mut members = a.members;
        members.sort();
        Ok(Some(Remote {
            account: a.account,
            limit_minutes: Some(a.limit_minutes),
            members,
            cap_flags_missing: Vec::new(),
            organization: None,
        }))
    }

    async fn accounts(&self, prefix: &str) -> SyncResult<Vec<Remote>> {
        let text = self
            .call(
                reqwest::Method::GET,
                "/allocations",
                Some(("prefix", prefix)),
                None,
                None,
            )
            .await?
            .unwrap_or_else(|| r#"{"allocations":[]}"#.into());
        let list: AllocationList = parse(&text)?;
        Ok(list
            .allocations
            .into_iter()
            .map(|a| {
                let mut members = a.members;
                members.sort();
                Remote {
                    account: a.account,
                    limit_minutes: Some(a.limit_minutes),
                    members,
                    cap_flags_missing: Vec::new(),
                    organization: None,
                }
            })
            .collect())
    }

    /// The contract has no window: every finished job of the account comes back.
    async fn usage(
        &self,
        account: &str,
        _since: Option<chrono::DateTime<chrono::Utc>>,
    ) -> SyncResult<Vec<JobUsage>> {
        let Some(text) = self
            .call(
                reqwest::Method::GET,
                &format!("{}/jobs", Self::path_of(account)),
                None,
                None,
                None,
            )
            .await?
        else {
            return Ok(Vec::new());
        };
        let list: JobList = parse(&text)?;
        Ok(list
            .jobs
            .into_iter()
            .filter(|j| j.gpu_minutes > 0)
            .map(|j| JobUsage {
                job_ref: j.job_id,
                account: account.to_string(),
                gpu_minutes: j.gpu_minutes,
                ended_at: j.ended_at,
            })
            .collect())
    }
}
