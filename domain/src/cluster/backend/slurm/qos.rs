//! v0.0.42: the budget as a QOS per account (the default) or as the account association's own
//! GrpTRESMins (a resource setting, for sites with `PriorityDecayHalfLife=0`). The QOS is named
//! as the account, carries `NO_DECAY,DENY_LIMIT` and GrpTRESMins gres/gpu = the cap, and is the
//! account association's only QOS and its default, so the cap is a lifetime cap that users
//! cannot dodge with another QOS, while fair-share decay stays on for everything else. Many
//! accounts are written in a few calls (lists), and every write is read back.
use super::v0042::{self, Account, AssocChange, Failure, NewAccount, Qos, Reply};
use super::{Enforcement, Slurm, SyncError, SyncResult};
use crate::cluster::backend::{Desired, JobUsage, Remote};
use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

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

/// The description of a startup's QOS; a freeze keeps the one it had.
fn qos_description(d: &Desired, held: Option<&Qos>) -> String {
    match (held, d.freeze) {
        (Some(q), true) => q.description.clone(),
        (None, true) => "Hatchery: frozen".to_string(),
        _ => v0042::description(&d.organization),
    }
}

/// The remote state of one account: its rows, and (enforced by QOS) its QOS as Hatchery names
/// it.
pub(super) fn remote_of(
    account: &str,
    rows: &[v0042::Assoc],
    qos: Option<&Qos>,
    enforcement: Enforcement,
) -> Option<Remote> {
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
    if enforcement == Enforcement::Association {
        return Some(Remote {
            account: account.to_string(),
            limit_minutes: own.gpu_minutes,
            members,
            cap_flags_missing: Vec::new(),
            organization: None,
        });
    }
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
        organization: None,
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
        let version = self.dialect().await?.version();
        let url = self.url_of(&format!("/slurmdb/{version}{path}"), query);
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

    /// The association rows of `accounts`, by account: a filtered read for one account, the
    /// cluster's rows for several (`account=a,b` is "Unable to parse query" in 24.11).
    async fn rows_of(&self, accounts: &[&str]) -> SyncResult<BTreeMap<String, Vec<v0042::Assoc>>> {
        let v = match accounts {
            [one] => {
                self.get_42(
                    "/associations/",
                    &[("account", one), ("cluster", &self.cluster)],
                )
                .await?
            }
            _ => {
                self.get_42("/associations/", &[("cluster", &self.cluster)])
                    .await?
            }
        };
        let wanted: HashSet<&str> = accounts.iter().copied().collect();
        let mut by_account: BTreeMap<String, Vec<v0042::Assoc>> = BTreeMap::new();
        for a in v0042::associations(&v, &self.cluster) {
            if wanted.contains(a.account.as_str()) {
                by_account.entry(a.account.clone()).or_default().push(a);
            }
        }
        Ok(by_account)
    }

    /// The QOS named as `accounts`: `GET /qos/NAME` for one, every QOS for several (`GET /qos/`
    /// has no filter that works).
    async fn qos_of(&self, accounts: &[&str]) -> SyncResult<HashMap<String, Qos>> {
        let v = match accounts {
            [one] => self.get_42(&format!("/qos/{one}"), &[]).await?,
            _ => self.get_42("/qos/", &[]).await?,
        };
        let wanted: HashSet<&str> = accounts.iter().copied().collect();
        Ok(v0042::qos_list(&v)
            .into_iter()
            .filter(|q| wanted.contains(q.name.as_str()))
            .map(|q| (q.name.clone(), q))
            .collect())
    }

    /// The account records (description, organization) of `accounts`.
    async fn account_records(&self, accounts: &[&str]) -> SyncResult<HashMap<String, Account>> {
        let v = match accounts {
            [one] => self.get_42(&format!("/account/{one}"), &[]).await?,
            _ => self.get_42("/accounts/", &[]).await?,
        };
        let wanted: HashSet<&str> = accounts.iter().copied().collect();
        Ok(v0042::accounts(&v)
            .into_iter()
            .filter(|a| wanted.contains(a.name.as_str()))
            .map(|a| (a.name.clone(), a))
            .collect())
    }

    pub(super) async fn read_42(&self, account: &str) -> SyncResult<Option<Remote>> {
        let rows = self.rows_of(&[account]).await?;
        let Some(rows) = rows.get(account) else {
            return Ok(None);
        };
        let qos = match self.enforcement {
            Enforcement::Qos => self.qos_of(&[account]).await?.remove(account),
            Enforcement::Association => None,
        };
        Ok(remote_of(account, rows, qos.as_ref(), self.enforcement))
    }

    /// Makes every account of `all` equal to its desired state (distinct accounts), in a few
    /// calls whatever their number, in the order that keeps each cap in force throughout: the
    /// QOS first, then the accounts (a new one has no member yet, so nothing runs under it
    /// before its cap is attached), then the account rows, then the members; then one read of
    /// everything, which decides each account's outcome. An error is a call that failed for
    /// the whole batch.
    pub(super) async fn apply_all_42(&self, all: &[Desired]) -> SyncResult<Vec<SyncResult<()>>> {
        let names: Vec<&str> = all.iter().map(|d| d.account.as_str()).collect();
        let mut rows = self.rows_of(&names).await?;
        let has_row = |rows: &BTreeMap<String, Vec<v0042::Assoc>>, account: &str| {
            rows.get(account)
                .is_some_and(|r| r.iter().any(v0042::Assoc::is_account_row))
        };
        // Freezing an account that is not there is done: nothing can run under it.
        let todo: Vec<&Desired> = all
            .iter()
            .filter(|d| !d.freeze || rows.contains_key(&d.account))
            .collect();
        if todo.is_empty() {
            return Ok(all.iter().map(|_| Ok(())).collect());
        }
        let todo_names: Vec<&str> = todo.iter().map(|d| d.account.as_str()).collect();
        let by_qos = self.enforcement == Enforcement::Qos;

        // 1. The QOS: the cap and the flags, always sent together (flags left out are cleared).
        if by_qos {
            let held = self.qos_of(&todo_names).await?;
            let writes: Vec<Value> = todo
                .iter()
                .filter_map(|d| {
                    let q = held.get(&d.account);
                    let description = qos_description(d, q);
                    let in_force = q.is_some_and(|q| {
                        q.enforces(d.limit_minutes) && q.description == description
                    });
                    (!in_force)
                        .then(|| v0042::qos_row(&d.account, &description, d.limit_minutes, q))
                })
                .collect();
            if !writes.is_empty() {
                self.post_42("/qos/", &v0042::qos_body(writes)).await?;
            }
        }

        // 2. New accounts, each with its association under the parent, in one call. One new
        // account is born capped; several share the call's settings, so their names and caps
        // follow in steps 3 and 4.
        let new: Vec<String> = todo
            .iter()
            .filter(|d| !has_row(&rows, &d.account))
            .map(|d| d.account.clone())
            .collect();
        if let Some(first) = todo.iter().find(|d| new.len() == 1 && d.account == new[0]) {
            let description = v0042::description(&first.organization);
            self.post_42(
                "/accounts_association/",
                &v0042::accounts_association_body(&NewAccount {
                    accounts: &new,
                    cluster: &self.cluster,
                    parent: &self.parent,
                    description: &description,
                    organization: &first.organization,
                    gpu_minutes: (!by_qos).then_some(first.limit_minutes),
                    qos: by_qos.then_some(first.account.as_str()),
                }),
            )
            .await?;
        } else if !new.is_empty() {
            self.post_42(
                "/accounts_association/",
                &v0042::accounts_association_body(&NewAccount {
                    accounts: &new,
                    cluster: &self.cluster,
                    parent: &self.parent,
                    description: "Hatchery",
                    organization: "hatchery",
                    gpu_minutes: None,
                    qos: None,
                }),
            )
            .await?;
        }

        // 3. Names: a startup's rename reaches its account's organization and description, and
        // accounts made together get their own.
        let existing: Vec<&str> = todo
            .iter()
            .filter(|d| !d.freeze && !new.contains(&d.account))
            .map(|d| d.account.as_str())
            .collect();
        let held = if existing.is_empty() {
            HashMap::new()
        } else {
            self.account_records(&existing).await?
        };
        let renamed: Vec<(&str, &str)> = todo
            .iter()
            .filter(|d| !d.freeze)
            .filter(|d| match held.get(&d.account) {
                // An account made by accounts_association has its organization in lower case
                // (POST /accounts keeps the case): a change of case alone is no rename.
                Some(a) => {
                    a.description != v0042::description(&d.organization)
                        || a.organization.to_lowercase() != d.organization.to_lowercase()
                }
                None => new.len() > 1 && new.contains(&d.account),
            })
            .map(|d| (d.account.as_str(), d.organization.as_str()))
            .collect();
        if !renamed.is_empty() {
            self.post_42("/accounts/", &v0042::accounts_body(&renamed))
                .await?;
        }
        if !new.is_empty() {
            rows = self.rows_of(&todo_names).await?;
        }

        // 4. The account rows: the QOS as their only and default one, or their own cap. Sent
        // with every TRES list as read: an association update clears those left out.
        let updates: Vec<Value> = todo
            .iter()
            .filter_map(|d| {
                let own = rows.get(&d.account)?.iter().find(|a| a.is_account_row())?;
                let change = if by_qos {
                    let attached = own.qos == [d.account.as_str()]
                        && own.default_qos.as_deref() == Some(d.account.as_str());
                    (!attached).then(|| AssocChange {
                        gpu_minutes: None,
                        qos: Some((vec![d.account.clone()], d.account.clone())),
                    })?
                } else {
                    (own.gpu_minutes != Some(d.limit_minutes)).then_some(AssocChange {
                        gpu_minutes: Some(Some(d.limit_minutes)),
                        qos: None,
                    })?
                };
                Some(v0042::association_update(own, &change))
            })
            .collect();
        if !updates.is_empty() {
            self.post_42("/associations/", &v0042::associations_body(updates))
                .await?;
        }

        // 5. Members: users who are new to Slurm are made with this account as their default,
        // then every missing membership in one call; those who left are removed one by one.
        let mut missing: Vec<(&str, &str)> = Vec::new();
        let mut left: Vec<(&str, String)> = Vec::new();
        for d in &todo {
            let Some(account_rows) = rows.get(&d.account) else {
                continue;
            };
            let present: Vec<&str> = account_rows
                .iter()
                .filter_map(|a| a.user.as_deref())
                .collect();
            for m in &d.members {
                if !present.contains(&m.as_str()) {
                    missing.push((d.account.as_str(), m.as_str()));
                }
            }
            for p in present {
                if !d.members.iter().any(|m| m == p) {
                    left.push((d.account.as_str(), p.to_string()));
                }
            }
        }
        let users = if missing.is_empty() && left.is_empty() {
            Vec::new()
        } else {
            let v = self.get_42("/users/", &v0042::USERS_QUERY).await?;
            v0042::users(&v, &self.cluster)
        };
        if !missing.is_empty() {
            let mut new_users: Vec<(&str, &str)> = Vec::new();
            for (account, login) in &missing {
                if !users.iter().any(|u| u.name == *login)
                    && !new_users.iter().any(|(l, _)| l == login)
                {
                    new_users.push((login, account));
                }
            }
            if !new_users.is_empty() {
                self.post_42("/users/", &v0042::default_accounts_body(&new_users))
                    .await?;
            }
            self.post_42(
                "/associations/",
                &v0042::member_rows_body(&self.cluster, &missing),
            )
            .await?;
        }
        // slurmdbd refuses to remove the association of a user's default account while they have
        // others (7009): such a member's default moves first to an account they stay in.
        let moves: Vec<(&str, &str)> = users
            .iter()
            .filter(|u| {
                left.iter()
                    .any(|(account, login)| *login == u.name && *account == u.default_account)
            })
            .filter_map(|u| {
                let stays = u.accounts.iter().find(|a| {
                    !left
                        .iter()
                        .any(|(account, login)| *login == u.name && account == a)
                })?;
                Some((u.name.as_str(), stays.as_str()))
            })
            .collect();
        if !moves.is_empty() {
            self.post_42("/users/", &v0042::default_accounts_body(&moves))
                .await?;
        }
        for (account, login) in &left {
            self.call(
                Method::DELETE,
                "/association/",
                &v0042::member_query(account, &self.cluster, login),
                None,
            )
            .await?;
        }

        // 6. One read of everything written decides each account's outcome.
        let rows = self.rows_of(&todo_names).await?;
        let qos = if by_qos {
            self.qos_of(&todo_names).await?
        } else {
            HashMap::new()
        };
        Ok(all
            .iter()
            .map(|d| {
                if !todo.iter().any(|t| t.account == d.account) {
                    return Ok(());
                }
                let remote = rows
                    .get(&d.account)
                    .and_then(|r| remote_of(&d.account, r, qos.get(&d.account), self.enforcement));
                self.verify(d, remote)
            })
            .collect())
    }

    /// Whether what was read back is the desired state, and if not, what differs.
    fn verify(&self, d: &Desired, remote: Option<Remote>) -> SyncResult<()> {
        let account = &d.account;
        let remote =
            remote.ok_or_else(|| SyncError::NotApplied(format!("account {account} is missing")))?;
        if remote.limit_minutes != Some(d.limit_minutes) {
            let holder = match self.enforcement {
                Enforcement::Qos => format!("QOS {account} (the account's only QOS)"),
                Enforcement::Association => format!("the association of account {account}"),
            };
            return Err(SyncError::NotApplied(format!(
                "{holder} caps gres/gpu at {:?} minutes, wanted {}",
                remote.limit_minutes, d.limit_minutes
            )));
        }
        if !remote.cap_flags_missing.is_empty() {
            return Err(SyncError::NotApplied(format!(
                "QOS {account} lacks the flags {:?}",
                remote.cap_flags_missing
            )));
        }
        if remote.members != d.members {
            return Err(SyncError::NotApplied(format!(
                "members are {:?}, wanted {:?}",
                remote.members, d.members
            )));
        }
        Ok(())
    }

    /// One account's desired state.
    pub(super) async fn apply_42(&self, desired: &Desired) -> SyncResult<()> {
        self.apply_all_42(std::slice::from_ref(desired))
            .await?
            .pop()
            .unwrap_or(Ok(()))
    }

    /// The cap at 0 and every member removed; the account, its QOS and its usage stay.
    pub(super) async fn freeze_42(&self, account: &str) -> SyncResult<()> {
        self.apply_42(&Desired::frozen(account)).await
    }

    /// Many accounts' desired states: in one batch, or, when a call of the batch fails for a
    /// reason other than an unreachable server, one account at a time, so that one account
    /// Slurm refuses does not hold back the others.
    pub(super) async fn apply_many_42(&self, all: &[Desired]) -> Vec<SyncResult<()>> {
        match self.apply_all_42(all).await {
            Ok(outcomes) => outcomes,
            Err(e) if all.len() > 1 && !matches!(e, SyncError::Unreachable(_)) => {
                tracing::warn!(accounts = all.len(), error = %e, "batch refused: one account at a time");
                let mut outcomes = Vec::with_capacity(all.len());
                for d in all {
                    outcomes.push(self.apply_42(d).await);
                }
                outcomes
            }
            Err(e) => all.iter().map(|_| Err(e.clone())).collect(),
        }
    }

    /// Every account whose name starts with `prefix`, in three reads whatever their number.
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
        let qos = match self.enforcement {
            Enforcement::Qos => v0042::qos_list(&self.get_42("/qos/", &[]).await?),
            Enforcement::Association => Vec::new(),
        };
        // The organization too: a startup's rename must reach its account.
        let names = v0042::accounts(&self.get_42("/accounts/", &[]).await?);
        Ok(by_account
            .iter()
            .filter_map(|(name, rows)| {
                let mut remote = remote_of(
                    name,
                    rows,
                    qos.iter().find(|q| &q.name == name),
                    self.enforcement,
                )?;
                remote.organization = names
                    .iter()
                    .find(|a| &a.name == name)
                    .map(|a| a.organization.clone());
                Some(remote)
            })
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
        let r = remote_of("startup-1", &rows, Some(&q), Enforcement::Qos).unwrap();
        assert_eq!(r.limit_minutes, None);
        assert_eq!(r.members, ["alice", "bob", "carol"]);
        let own = rows.iter_mut().find(|a| a.is_account_row()).unwrap();
        own.qos = vec!["startup-1".into()];
        own.default_qos = Some("startup-1".into());
        let r = remote_of("startup-1", &rows, Some(&q), Enforcement::Qos).unwrap();
        assert_eq!(r.limit_minutes, Some(600));
        assert!(r.cap_flags_missing.is_empty());
        // A QOS that decays is drift.
        let decaying = qos("startup-1", &["DENY_LIMIT"], 600);
        let r = remote_of("startup-1", &rows, Some(&decaying), Enforcement::Qos).unwrap();
        assert_eq!(r.cap_flags_missing, ["NO_DECAY"]);
        // `normal` beside it lets users dodge the cap.
        rows.iter_mut()
            .find(|a| a.is_account_row())
            .unwrap()
            .qos
            .push("normal".into());
        assert_eq!(
            remote_of("startup-1", &rows, Some(&q), Enforcement::Qos)
                .unwrap()
                .limit_minutes,
            None
        );
        assert!(remote_of("startup-2", &rows, Some(&q), Enforcement::Qos).is_none());
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
