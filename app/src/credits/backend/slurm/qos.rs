//! v0.0.42: the budget as a QOS per account. The QOS is named as the account, carries
//! `NO_DECAY,DENY_LIMIT` and GrpTRESMins gres/gpu = the cap, and is the account association's
//! only QOS and its default, so the cap is a lifetime cap that users cannot dodge with another
//! QOS, while fair-share decay stays on for everything else. Every write is read back.
use super::v0042::{self, AssocChange, Failure, NewAccount, Qos, Reply};
use super::{Slurm, SyncError, SyncResult};
use crate::credits::backend::{Desired, JobUsage, Remote};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// The parent of every startup account.
const PARENT: &str = "root";

/// Why a v0.0.42 request failed, in the sync job's terms.
fn sync_error(f: Failure) -> SyncError {
    match f {
        Failure::NoCredentials => SyncError::Refused("slurmrestd wants a token (HTTP 401)".into()),
        Failure::BadToken(m) => SyncError::Refused(format!("slurmrestd refused the token: {m}")),
        Failure::Unavailable(m) => SyncError::Unreachable(m),
        Failure::Invalid(m) | Failure::Denied(m) | Failure::NotFound(m) | Failure::Other(m) => {
            SyncError::Refused(m)
        }
    }
}

/// A reply's JSON; a write that changed nothing (304) has none.
fn body(reply: Reply) -> Value {
    match reply {
        Reply::Json(v) | Reply::NothingFound(v) => v,
        Reply::Unchanged => json!({}),
    }
}

/// The remote state of one account: its rows, and its QOS as Hatchery names it.
pub(super) fn remote_of(account: &str, rows: &[v0042::Assoc], qos: Option<&Qos>) -> Option<Remote> {
    let own = rows
        .iter()
        .find(|a| a.account == account && a.is_account_row())?;
    let mut members: Vec<String> = rows
        .iter()
        .filter(|a| a.account == account)
        .filter_map(|a| a.user.clone())
        .collect();
    members.sort();
    members.dedup();
    // The QOS caps the account only as its only QOS (another one in the list would let users
    // dodge the cap with `sbatch -q`) and its default; otherwise nothing bounds its GPU use.
    let attached = own.qos == [account] && own.default_qos.as_deref() == Some(account);
    let qos = qos.filter(|q| q.name == account);
    let cap_flags_missing = match qos {
        Some(q) if attached => v0042::QOS_FLAGS
            .iter()
            .filter(|f| !q.flags.iter().any(|g| g == *f))
            .map(|f| f.to_string())
            .collect(),
        _ => Vec::new(),
    };
    Some(Remote {
        account: account.to_string(),
        limit_minutes: qos.filter(|_| attached).and_then(|q| q.gpu_minutes),
        members,
        cap_flags_missing,
    })
}

impl Slurm {
    /// One v0.0.42 request (`path` under `/slurmdb/v0.0.42`), its reply sorted out.
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> SyncResult<Reply> {
        let url = self.url_of(&format!("{}{path}", v0042::PREFIX), query);
        let (status, text) = self.exchange_authed(&method, &url, body).await?;
        v0042::classify(status.as_u16(), &text).map_err(sync_error)
    }

    async fn get_42(&self, path: &str, query: &[(&str, &str)]) -> SyncResult<Value> {
        Ok(body(self.call(Method::GET, path, query, None).await?))
    }

    async fn post_42(&self, path: &str, payload: &Value) -> SyncResult<()> {
        self.call(Method::POST, path, &[], Some(payload)).await?;
        Ok(())
    }

    async fn rows_42(&self, account: &str) -> SyncResult<Vec<v0042::Assoc>> {
        let v = self
            .get_42(
                "/associations/",
                &[("account", account), ("cluster", &self.cluster)],
            )
            .await?;
        Ok(v0042::associations(&v, &self.cluster)
            .into_iter()
            .filter(|a| a.account == account)
            .collect())
    }

    async fn qos_42(&self, name: &str) -> SyncResult<Option<Qos>> {
        let v = self.get_42(&format!("/qos/{name}"), &[]).await?;
        Ok(v0042::qos_list(&v).into_iter().find(|q| q.name == name))
    }

    pub(super) async fn read_42(&self, account: &str) -> SyncResult<Option<Remote>> {
        let rows = self.rows_42(account).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        let qos = self.qos_42(account).await?;
        Ok(remote_of(account, &rows, qos.as_ref()))
    }

    /// Makes the QOS, the account and its members equal to `desired`, in the order that keeps
    /// the cap in force throughout: the QOS first (a new account is born under it), then the
    /// account, then its members. Each step only when the read says it is needed.
    pub(super) async fn apply_42(&self, desired: &Desired) -> SyncResult<()> {
        let account = desired.account.as_str();
        let limit = desired.limit_minutes;
        let description = v0042::description(&desired.organization);

        // The QOS: the cap and the flags, always sent together (flags left out are cleared).
        let qos = self.qos_42(account).await?;
        let qos_description = match (&qos, desired.freeze) {
            (Some(q), true) => q.description.clone(),
            (None, true) => "Hatchery: frozen".to_string(),
            _ => description.clone(),
        };
        if !qos
            .as_ref()
            .is_some_and(|q| q.enforces(limit) && q.description == qos_description)
        {
            self.post_42(
                "/qos/",
                &v0042::qos_body(vec![v0042::qos_row(
                    account,
                    &qos_description,
                    limit,
                    qos.as_ref(),
                )]),
            )
            .await?;
        }

        // The account with its association, born with the QOS as its only and default one.
        let mut rows = self.rows_42(account).await?;
        if !rows.iter().any(v0042::Assoc::is_account_row) {
            let names = [account.to_string()];
            self.post_42(
                "/accounts_association/",
                &v0042::accounts_association_body(&NewAccount {
                    accounts: &names,
                    cluster: &self.cluster,
                    parent: PARENT,
                    description: &description,
                    organization: &desired.organization,
                    gpu_minutes: None,
                    qos: Some(account),
                }),
            )
            .await?;
            rows = self.rows_42(account).await?;
        } else if !desired.freeze {
            // A startup's rename reaches the account's organization and description.
            let v = self.get_42(&format!("/account/{account}"), &[]).await?;
            let held = v0042::accounts(&v).into_iter().find(|a| a.name == account);
            // An account made by accounts_association has its organization in lower case
            // (POST /accounts keeps the case): a change of case alone is no rename.
            if held.is_some_and(|a| {
                a.description != description
                    || a.organization.to_lowercase() != desired.organization.to_lowercase()
            }) {
                self.post_42(
                    "/accounts/",
                    &v0042::accounts_body(&[(account, &desired.organization)]),
                )
                .await?;
            }
        }
        let own = rows
            .iter()
            .find(|a| a.is_account_row())
            .ok_or_else(|| SyncError::NotApplied(format!("account {account} was not created")))?;
        if !(own.qos == [account] && own.default_qos.as_deref() == Some(account)) {
            // Sent with every TRES list as read: an association update clears those left out.
            let row = v0042::association_update(
                own,
                &AssocChange {
                    gpu_minutes: None,
                    qos: Some((vec![account.to_string()], account.to_string())),
                },
            );
            self.post_42("/associations/", &v0042::associations_body(vec![row]))
                .await?;
        }

        // The members: added in one call (their default account stays theirs), removed one
        // by one when they left the team.
        let present: Vec<String> = rows.iter().filter_map(|a| a.user.clone()).collect();
        let missing: Vec<String> = desired
            .members
            .iter()
            .filter(|m| !present.contains(m))
            .cloned()
            .collect();
        if !missing.is_empty() {
            self.post_42(
                "/users_association/",
                &v0042::users_association_body(account, &self.cluster, &missing),
            )
            .await?;
        }
        for login in present.iter().filter(|p| !desired.members.contains(p)) {
            self.call(
                Method::DELETE,
                "/association/",
                &v0042::member_query(account, &self.cluster, login),
                None,
            )
            .await?;
        }

        // Read back.
        let remote = self
            .read_42(account)
            .await?
            .ok_or_else(|| SyncError::NotApplied(format!("account {account} is missing")))?;
        if remote.limit_minutes != Some(limit) {
            return Err(SyncError::NotApplied(format!(
                "QOS {account} (the account's only QOS) caps gres/gpu at {:?} minutes, wanted {limit}",
                remote.limit_minutes
            )));
        }
        if !remote.cap_flags_missing.is_empty() {
            return Err(SyncError::NotApplied(format!(
                "QOS {account} lacks the flags {:?}",
                remote.cap_flags_missing
            )));
        }
        if remote.members != desired.members {
            return Err(SyncError::NotApplied(format!(
                "members are {:?}, wanted {:?}",
                remote.members, desired.members
            )));
        }
        Ok(())
    }

    /// The QOS cap at 0 and every member removed; the account, its QOS and its usage stay.
    pub(super) async fn freeze_42(&self, account: &str) -> SyncResult<()> {
        if self.rows_42(account).await?.is_empty() {
            return Ok(());
        }
        self.apply_42(&Desired::frozen(account)).await
    }

    /// Every account whose name starts with `prefix`, in two reads whatever their number.
    pub(super) async fn accounts_42(&self, prefix: &str) -> SyncResult<Vec<Remote>> {
        let v = self
            .get_42("/associations/", &[("cluster", &self.cluster)])
            .await?;
        let mut by_account: BTreeMap<String, Vec<v0042::Assoc>> = BTreeMap::new();
        for a in v0042::associations(&v, &self.cluster) {
            if a.account.starts_with(prefix) {
                by_account.entry(a.account.clone()).or_default().push(a);
            }
        }
        if by_account.is_empty() {
            return Ok(Vec::new());
        }
        // `GET /qos/` lists every QOS (it has no filter that works).
        let qos = v0042::qos_list(&self.get_42("/qos/", &[]).await?);
        Ok(by_account
            .iter()
            .filter_map(|(name, rows)| remote_of(name, rows, qos.iter().find(|q| &q.name == name)))
            .collect())
    }

    /// Finished jobs of the account from `since` on (jobs running at any time in the window),
    /// or its whole history.
    pub(super) async fn usage_42(
        &self,
        account: &str,
        since: Option<DateTime<Utc>>,
    ) -> SyncResult<Vec<JobUsage>> {
        let query = v0042::jobs_query(account, since);
        let pairs: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let v = self.get_42("/jobs/", &pairs).await?;
        Ok(v0042::finished_jobs(&v, &self.cluster)
            .into_iter()
            .filter(|j| j.account == account)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<v0042::Assoc> {
        let v: Value =
            serde_json::from_str(include_str!("fixtures/associations.json")).expect("JSON");
        v0042::associations(&v, "ci2411")
    }

    fn qos(name: &str, flags: &[&str], minutes: i64) -> Qos {
        Qos {
            id: 7,
            name: name.into(),
            description: String::new(),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            gpu_minutes: Some(minutes),
            minutes_total: json!([]),
        }
    }

    #[test]
    fn the_qos_caps_the_account_only_when_it_is_its_only_and_default_qos() {
        let mut rows = rows();
        // As read: the account row has `normal` only: nothing caps it.
        let q = qos("startup-1", &["DENY_LIMIT", "NO_DECAY"], 600);
        let r = remote_of("startup-1", &rows, Some(&q)).unwrap();
        assert_eq!(r.limit_minutes, None);
        assert_eq!(r.members, ["alice", "bob", "carol"]);
        let own = rows.iter_mut().find(|a| a.is_account_row()).unwrap();
        own.qos = vec!["startup-1".into()];
        own.default_qos = Some("startup-1".into());
        let r = remote_of("startup-1", &rows, Some(&q)).unwrap();
        assert_eq!(r.limit_minutes, Some(600));
        assert!(r.cap_flags_missing.is_empty());
        // A QOS that decays is drift.
        let decaying = qos("startup-1", &["DENY_LIMIT"], 600);
        let r = remote_of("startup-1", &rows, Some(&decaying)).unwrap();
        assert_eq!(r.cap_flags_missing, ["NO_DECAY"]);
        // `normal` beside it lets users dodge the cap.
        rows.iter_mut()
            .find(|a| a.is_account_row())
            .unwrap()
            .qos
            .push("normal".into());
        assert_eq!(
            remote_of("startup-1", &rows, Some(&q))
                .unwrap()
                .limit_minutes,
            None
        );
        assert!(remote_of("startup-2", &rows, Some(&q)).is_none());
    }

    #[test]
    fn failures_keep_their_kind() {
        assert!(matches!(
            sync_error(Failure::Unavailable("slurmdbd".into())),
            SyncError::Unreachable(_)
        ));
        assert!(matches!(
            sync_error(Failure::BadToken("7000".into())),
            SyncError::Refused(m) if m.contains("token")
        ));
        assert_eq!(body(Reply::Unchanged), json!({}));
    }
}
