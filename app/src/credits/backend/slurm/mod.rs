//! Slurm through slurmrestd: one Slurm account per startup, the grant as the account
//! association's GrpTRESMins on gres/gpu, team members as Slurm users. Every write is read back.
use super::{AllocationBackend, Desired, JobUsage, Remote, SyncError, SyncResult, CLIENT};
use serde_json::Value;

pub mod v0038;
pub mod v0042;
use v0038 as dialect;

/// An empty account that startup accounts are moved under and back: 22.05 can silently ignore
/// a limit update on an association that is its parent's first child, and a change of parent
/// makes it apply (used minutes are kept).
const UMBRELLA: &str = "hatchery-umbrella";

pub struct Slurm {
    base: url::Url,
    cluster: String,
}

impl Slurm {
    pub fn new(base_url: &str, cluster: &str) -> SyncResult<Slurm> {
        if cluster.trim().is_empty() {
            return Err(SyncError::Config("the Slurm cluster name is empty".into()));
        }
        Ok(Slurm {
            base: super::base_url(base_url)?,
            cluster: cluster.trim().to_string(),
        })
    }

    fn url(&self, path: &str, query: &[(&str, &str)]) -> url::Url {
        let mut u = self.base.clone();
        let joined = format!(
            "{}{}{}",
            u.path().trim_end_matches('/'),
            dialect::PREFIX,
            path
        );
        u.set_path(&joined);
        if !query.is_empty() {
            u.query_pairs_mut().extend_pairs(query);
        }
        u
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> SyncResult<Value> {
        let res = req
            .header("Accept", "application/json")
            .send()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
        let status = res.status();
        let body = res
            .text()
            .await
            .map_err(|e| SyncError::Unreachable(e.to_string()))?;
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

    async fn get(&self, path: &str, query: &[(&str, &str)]) -> SyncResult<Value> {
        self.send(CLIENT.get(self.url(path, query))).await
    }

    /// Posts and returns the reply's errors, which the caller weighs (some are bogus).
    async fn post(&self, path: &str, body: &Value) -> SyncResult<Vec<String>> {
        let v = self
            .send(CLIENT.post(self.url(path, &[])).json(body))
            .await?;
        Ok(dialect::errors(&v))
    }

    async fn delete(&self, path: &str, query: &[(&str, &str)]) -> SyncResult<()> {
        let v = self.send(CLIENT.delete(self.url(path, query))).await?;
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
            .read(account)
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

impl AllocationBackend for Slurm {
    async fn apply(&self, desired: &Desired, _idempotency_key: &str) -> SyncResult<()> {
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
    async fn freeze(&self, account: &str, _idempotency_key: &str) -> SyncResult<()> {
        if self.read(account).await?.is_none() {
            return Ok(());
        }
        self.converge(account, 0, &[]).await
    }

    async fn read(&self, account: &str) -> SyncResult<Option<Remote>> {
        let rows = self.rows(account).await?;
        Ok(Slurm::remote_of(account, &rows))
    }

    async fn accounts(&self, prefix: &str) -> SyncResult<Vec<Remote>> {
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

    async fn usage(&self, account: &str) -> SyncResult<Vec<JobUsage>> {
        let v = self.get("/jobs", &[("account", account)]).await?;
        Ok(dialect::finished_jobs(&v, &self.cluster)
            .into_iter()
            .filter(|j| j.account == account)
            .collect())
    }
}
