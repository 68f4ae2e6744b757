//! The JSON of slurmrestd's v0.0.42 dialect (`/slurmdb/v0.0.42`, `/slurm/v0.0.42`), the one
//! version Slurm 24.11 through 26.05 all serve. Pure functions: what to send, how to read the
//! replies, how to tell the replies apart. Shapes and quirks were measured on Slurm 24.11.5
//! (scripts/slurm-2411.sh); the fixtures beside this file are its real replies.
//!
//! What differs from v0.0.38: scalars are `{set, infinite, number}`, limits are TRES lists,
//! job states are arrays of flags, account rows have `user: ""` and `partition: ""`,
//! association `id` is always 0 (rows are keyed by names), an account and its association are
//! made in one call (`/accounts_association/`), a write that changes nothing is 304 with an
//! empty body, a read that finds nothing is 200 with a warning, and an association update
//! clears every TRES list it leaves out.
//!
//! v0.0.43 (Slurm 25.05+) and v0.0.44 (25.11+) are spoken with this module too: read from
//! Slurm's data_parser sources (`src/plugins/data_parser/v0.0.4x/parsers.c`, 25.05.8 and
//! 25.11.7), their associations, accounts, QOS (`limits.max.tres.minutes.total`, flag
//! spellings), `/accounts_association/`, `/users/` and `DELETE /association/` are the same;
//! their jobs differ only where Hatchery does not read (`association` of a job is no longer
//! looked up: the top-level `account` is what counts here), and plain integers that have no
//! value draw a warning. Those two have not been run against a live slurmrestd here.
use super::super::JobUsage;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};

/// The flags of every QOS Hatchery keeps: its usage never decays, so its GrpTRESMins is a
/// lifetime cap while fair-share decay stays on for everything else; and a job that could never
/// fit is refused at submission instead of pending forever. REST names (sacctmgr's `NoDecay`
/// is a 500).
pub const QOS_FLAGS: [&str; 2] = ["NO_DECAY", "DENY_LIMIT"];

// ---- scalars and TRES lists -------------------------------------------------------------------

/// A `{set, infinite, number}` scalar (GrpJobs, MaxJobs, priority, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Number {
    /// No limit of its own (read as `{"set": false, "infinite": true, "number": 0}`).
    Unset,
    Infinite,
    Value(i64),
}

impl Number {
    pub fn read(v: Option<&Value>) -> Number {
        let Some(v) = v else { return Number::Unset };
        if let Some(n) = v.as_i64() {
            return Number::Value(n);
        }
        let flag = |k: &str| v.get(k).and_then(Value::as_bool).unwrap_or(false);
        match (flag("set"), flag("infinite")) {
            (false, _) => Number::Unset,
            (true, true) => Number::Infinite,
            (true, false) => v
                .get("number")
                .and_then(Value::as_i64)
                .map_or(Number::Unset, Number::Value),
        }
    }

    pub fn value(self) -> Option<i64> {
        match self {
            Number::Value(n) => Some(n),
            _ => None,
        }
    }

    pub fn to_json(self) -> Value {
        match self {
            Number::Unset => json!({"set": false, "infinite": true, "number": 0}),
            Number::Infinite => json!({"set": true, "infinite": true, "number": 0}),
            Number::Value(n) => json!({"set": true, "infinite": false, "number": n}),
        }
    }
}

fn is_gpu(t: &Value) -> bool {
    t.get("type").and_then(Value::as_str) == Some("gres")
        && t.get("name").and_then(Value::as_str) == Some("gpu")
}

/// The gres/gpu count of a TRES list. Negative counts mean "unknown" (energy is -2) or
/// "cleared" (-1): no number.
pub fn gpu_count(list: Option<&Value>) -> Option<i64> {
    list?
        .as_array()?
        .iter()
        .find(|t| is_gpu(t))
        .and_then(|t| t.get("count").and_then(Value::as_i64))
        .filter(|c| *c >= 0)
}

/// A TRES list as read with its gres/gpu entry set to `count` (None: removed); every other
/// entry is kept as it was, since the list is replaced as a whole.
pub fn with_gpu(list: Option<&Value>, count: Option<i64>) -> Value {
    let mut entries: Vec<Value> = list
        .and_then(Value::as_array)
        .map(|l| l.iter().filter(|t| !is_gpu(t)).cloned().collect())
        .unwrap_or_default();
    if let Some(count) = count {
        entries.push(json!({"type": "gres", "name": "gpu", "count": count}));
    }
    Value::Array(entries)
}

fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

// ---- associations -----------------------------------------------------------------------------

/// What names an association: `id` is always 0 in v0.0.41+ reads (the real id only shows in
/// `GET /user/NAME?with_assocs` and in job records). Empty strings, not None, for the account's
/// own row (`user`) and for "any partition", as Slurm sends them.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AssocKey {
    pub cluster: String,
    pub account: String,
    pub user: String,
    pub partition: String,
}

/// One association row, as far as Hatchery cares, plus its limits as read so that an update
/// can send them back.
#[derive(Clone, Debug, PartialEq)]
pub struct Assoc {
    pub cluster: String,
    pub account: String,
    /// None for the account's own association; a member's login otherwise.
    pub user: Option<String>,
    /// None unless the row is for one partition only.
    pub partition: Option<String>,
    /// The parent account (only account rows have one).
    pub parent: Option<String>,
    /// GrpTRESMins for gres/gpu (`max.tres.group.minutes`).
    pub gpu_minutes: Option<i64>,
    /// The QOS the row may use, and its default QOS.
    pub qos: Vec<String>,
    pub default_qos: Option<String>,
    /// `max` exactly as read: every TRES list and scalar of the row's limits.
    pub max: Value,
}

impl Assoc {
    pub fn key(&self) -> AssocKey {
        AssocKey {
            cluster: self.cluster.clone(),
            account: self.account.clone(),
            user: self.user.clone().unwrap_or_default(),
            partition: self.partition.clone().unwrap_or_default(),
        }
    }

    /// The account's own row (not a member's, not a partition's).
    pub fn is_account_row(&self) -> bool {
        self.user.is_none() && self.partition.is_none()
    }

    /// A row that does not exist yet, as an update of it would start from: no limits.
    pub fn blank(cluster: &str, account: &str, user: Option<&str>) -> Assoc {
        Assoc {
            cluster: cluster.to_string(),
            account: account.to_string(),
            user: user.map(str::to_string),
            partition: None,
            parent: None,
            gpu_minutes: None,
            qos: Vec::new(),
            default_qos: None,
            max: json!({}),
        }
    }
}

/// The rows of `GET /associations/` on `cluster`. A reply that found nothing (200 with a
/// warning) has an empty list, as has a reply without one.
pub fn associations(v: &Value, cluster: &str) -> Vec<Assoc> {
    let Some(rows) = v.get("associations").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .filter(|r| r.get("cluster").and_then(Value::as_str) == Some(cluster))
        .filter_map(|r| {
            Some(Assoc {
                cluster: cluster.to_string(),
                account: non_empty(text(r, "account"))?,
                user: non_empty(text(r, "user")),
                partition: non_empty(text(r, "partition")),
                parent: non_empty(text(r, "parent_account")),
                gpu_minutes: gpu_count(r.pointer("/max/tres/group/minutes")),
                qos: strings(r.get("qos")),
                default_qos: r
                    .pointer("/default/qos")
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .and_then(non_empty),
                max: r.get("max").cloned().unwrap_or_else(|| json!({})),
            })
        })
        .collect()
}

/// What an update of one association changes; everything else is sent back as read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssocChange {
    /// GrpTRESMins gres/gpu: `Some(None)` removes the cap, `None` keeps it.
    pub gpu_minutes: Option<Option<i64>>,
    /// The QOS list and default QOS: `Some` replaces both (the default must be in the list).
    pub qos: Option<(Vec<String>, String)>,
}

/// One row of a `POST /associations/` update. It names the row by (cluster, account, user,
/// partition), all four required ("" for none: without `user` the reply is a 500, 9200), and
/// sends `max` back whole: a TRES list left out of an update is cleared (GrpTRES, MaxTRES, …
/// all lost when only `group.minutes` is sent), while scalars left out are kept. Never use it
/// to create an account's row (that makes a broken one): see [`accounts_association_body`].
pub fn association_update(read: &Assoc, change: &AssocChange) -> Value {
    let mut max = match &read.max {
        Value::Object(_) => read.max.clone(),
        _ => json!({}),
    };
    let minutes = match change.gpu_minutes {
        Some(limit) => with_gpu(read.max.pointer("/tres/group/minutes"), limit),
        None => read
            .max
            .pointer("/tres/group/minutes")
            .cloned()
            .unwrap_or_else(|| json!([])),
    };
    set_path(&mut max, &["tres", "group", "minutes"], minutes);
    let mut row = json!({
        "account": read.account,
        "cluster": read.cluster,
        "user": read.user.as_deref().unwrap_or(""),
        "partition": read.partition.as_deref().unwrap_or(""),
        "max": max,
    });
    if let Some((list, default)) = &change.qos {
        row["qos"] = json!(list);
        row["default"] = json!({"qos": default});
    }
    row
}

/// Puts `value` at `path` inside `target`, making the objects on the way.
fn set_path(target: &mut Value, path: &[&str], value: Value) {
    let mut at = target;
    for key in &path[..path.len() - 1] {
        if !at.get(*key).is_some_and(Value::is_object) {
            at[*key] = json!({});
        }
        at = &mut at[*key];
    }
    at[path[path.len() - 1]] = value;
}

/// `POST /associations/` with many rows at once (v0.0.42 applies each).
pub fn associations_body(rows: Vec<Value>) -> Value {
    json!({ "associations": rows })
}

/// An account with its own association, in one call (the only way that makes a sound account
/// row). `association` uses sacctmgr-like flat names. Several accounts can share one call when
/// their settings are equal; the same body again is 304 (nothing changed). For an account
/// that exists it adds what is missing and changes nothing else.
pub struct NewAccount<'a> {
    pub accounts: &'a [String],
    pub cluster: &'a str,
    pub parent: &'a str,
    pub description: &'a str,
    pub organization: &'a str,
    /// GrpTRESMins gres/gpu of the account row (the association-limit way of enforcing).
    pub gpu_minutes: Option<i64>,
    /// The account's only QOS, also its default (the QOS way of enforcing).
    pub qos: Option<&'a str>,
}

pub fn accounts_association_body(a: &NewAccount) -> Value {
    let mut association = json!({"parent": a.parent});
    if let Some(limit) = a.gpu_minutes {
        association["grptresmins"] = json!([{"type": "gres", "name": "gpu", "count": limit}]);
    }
    if let Some(qos) = a.qos {
        association["qoslevel"] = json!([qos]);
        association["defaultqos"] = json!(qos);
    }
    json!({
        "association_condition": {
            "accounts": a.accounts,
            "clusters": [a.cluster],
            "association": association,
        },
        "account": {"description": a.description, "organization": a.organization},
    })
}

/// The description Hatchery gives a startup's account.
pub fn description(organization: &str) -> String {
    format!("Hatchery: {organization}")
}

/// `POST /accounts/`: creates or updates the accounts' description and organization (a
/// startup's rename), one entry each. Makes no association.
pub fn accounts_body(accounts: &[(&str, &str)]) -> Value {
    json!({"accounts": accounts
        .iter()
        .map(|(name, organization)| json!({
            "name": name,
            "organization": organization,
            "description": description(organization),
        }))
        .collect::<Vec<_>>()})
}

/// An account as `GET /accounts/` lists it (its `name` filter is ignored: all come back;
/// `GET /account/NAME` gives one).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub description: String,
    pub organization: String,
}

pub fn accounts(v: &Value) -> Vec<Account> {
    v.get("accounts")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|a| Account {
                    name: text(a, "name"),
                    description: text(a, "description"),
                    organization: text(a, "organization"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// A Slurm user as `GET /users/?with_assocs=true` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// "" for none.
    pub default_account: String,
    /// The accounts of its associations on the cluster.
    pub accounts: Vec<String>,
}

/// The query of `GET /users/` that makes `users` complete: without `with_assocs`, 24.11 sends
/// every user's `default.account` as "".
pub const USERS_QUERY: [(&str, &str); 1] = [("with_assocs", "true")];

/// The users of a `GET /users/?with_assocs=true` reply, with their associations on `cluster`.
pub fn users(v: &Value, cluster: &str) -> Vec<User> {
    v.get("users")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|u| {
                    Some(User {
                        name: non_empty(text(u, "name"))?,
                        default_account: u
                            .pointer("/default/account")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                        accounts: u
                            .get("associations")
                            .and_then(Value::as_array)
                            .map(|a| {
                                a.iter()
                                    .filter(|a| text(a, "cluster") == cluster)
                                    .filter_map(|a| non_empty(text(a, "account")))
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// `POST /users/`: users with the default account each should have. A user who does not exist
/// yet is made; an existing one gets that default (so send an existing user only to move it:
/// slurmdbd refuses to remove the association of a user's default account, 7009, while they
/// have others).
pub fn default_accounts_body(users: &[(&str, &str)]) -> Value {
    json!({"users": users
        .iter()
        .map(|(name, account)| json!({"name": name, "default": {"account": account}}))
        .collect::<Vec<_>>()})
}

/// Members of many accounts in one `POST /associations/`: one row per (account, login) of
/// users that exist. `partition` is left out on purpose: with `""` slurmdbd 24.11 makes the
/// row's lineage `/acct/0-user//` instead of `/acct/0-user/` as `users_association` does.
pub fn member_rows_body(cluster: &str, members: &[(&str, &str)]) -> Value {
    json!({"associations": members
        .iter()
        .map(|(account, login)| json!({"account": account, "cluster": cluster, "user": login}))
        .collect::<Vec<_>>()})
}

/// The query of `DELETE /association/` that removes one member from an account.
pub fn member_query<'a>(
    account: &'a str,
    cluster: &'a str,
    login: &'a str,
) -> [(&'static str, &'a str); 3] {
    [("account", account), ("cluster", cluster), ("user", login)]
}

// ---- QOS --------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct Qos {
    /// The numeric id (`GET /jobs/?qos=` takes only this).
    pub id: i64,
    pub name: String,
    pub description: String,
    pub flags: Vec<String>,
    /// GrpTRESMins gres/gpu (`limits.max.tres.minutes.total`; only v0.0.42 has it).
    pub gpu_minutes: Option<i64>,
    /// `limits.max.tres.minutes.total` as read, to send its other entries back.
    pub minutes_total: Value,
}

impl Qos {
    /// Whether this QOS enforces `limit` GPU-minutes as a lifetime cap.
    pub fn enforces(&self, limit: i64) -> bool {
        self.gpu_minutes == Some(limit)
            && QOS_FLAGS.iter().all(|f| self.flags.iter().any(|g| g == f))
    }
}

/// The QOS of `GET /qos/` (its `name` filter is ignored: every QOS comes back) or
/// `GET /qos/NAME`.
pub fn qos_list(v: &Value) -> Vec<Qos> {
    v.get("qos")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(|q| {
                    let minutes_total = q
                        .pointer("/limits/max/tres/minutes/total")
                        .cloned()
                        .unwrap_or_else(|| json!([]));
                    Some(Qos {
                        id: q.get("id")?.as_i64()?,
                        name: non_empty(text(q, "name"))?,
                        description: text(q, "description"),
                        flags: strings(q.get("flags")),
                        gpu_minutes: gpu_count(Some(&minutes_total)),
                        minutes_total,
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

/// One QOS of a `POST /qos/` (creates or updates). Flags are always sent, as read plus
/// [`QOS_FLAGS`]: an update without `flags` clears them (NoDecay silently lost). Limits left out
/// are kept on a QOS (unlike an association), but the GrpTRESMins list is sent whole anyway.
/// The read QOS is not sent back as a whole: its float fields (`usage_factor`, …) come back
/// as integers and draw warnings.
pub fn qos_row(name: &str, description: &str, gpu_minutes: i64, read: Option<&Qos>) -> Value {
    let mut flags: Vec<String> = read.map(|q| q.flags.clone()).unwrap_or_default();
    for f in QOS_FLAGS {
        if !flags.iter().any(|g| g == f) {
            flags.push(f.to_string());
        }
    }
    let total = with_gpu(read.map(|q| &q.minutes_total), Some(gpu_minutes));
    json!({
        "name": name,
        "description": description,
        "flags": flags,
        "limits": {"max": {"tres": {"minutes": {"total": total}}}},
    })
}

pub fn qos_body(rows: Vec<Value>) -> Value {
    json!({ "qos": rows })
}

// ---- jobs -------------------------------------------------------------------------------------

const BASE_STATES: &[&str] = &[
    "PENDING",
    "RUNNING",
    "SUSPENDED",
    "COMPLETED",
    "CANCELLED",
    "FAILED",
    "TIMEOUT",
    "NODE_FAIL",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
    "OUT_OF_MEMORY",
];

const FINISHED: &[&str] = &[
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "BOOT_FAIL",
    "DEADLINE",
];

/// A job state array (`["COMPLETED"]`, `["RUNNING", "COMPLETING"]`, …): its base state, the
/// first entry that is one; the others are flags.
fn base_state(list: Option<&Value>) -> Option<String> {
    strings(list)
        .into_iter()
        .find(|s| BASE_STATES.contains(&s.as_str()))
}

/// The query of `GET /slurmdb/v0.0.42/jobs/` for an account's jobs since `since`. slurmdbd
/// returns the jobs that were eligible or running at any time from `start_time` on (a job
/// that ended before is left out; one still running or ended after is in), so a window that
/// starts at the end of the last import overlaps it a little: the import is idempotent per job.
pub fn jobs_query(account: &str, since: Option<DateTime<Utc>>) -> Vec<(&'static str, String)> {
    let mut q = vec![("account", account.to_string())];
    if let Some(since) = since {
        q.push(("start_time", since.timestamp().to_string()));
    }
    q
}

/// Finished jobs with GPUs: GPU-minutes = GPUs × elapsed seconds / 60, to the nearest minute
/// (as v0.0.38). `state.current` is an array; the allocated TRES may hold negative counts
/// (energy -2: unknown), which count as nothing; a pending or running job has `end: 0`.
pub fn finished_jobs(v: &Value, cluster: &str) -> Vec<JobUsage> {
    let Some(jobs) = v.get("jobs").and_then(Value::as_array) else {
        return Vec::new();
    };
    jobs.iter()
        .filter_map(|j| {
            let state = base_state(j.pointer("/state/current"))?;
            if !FINISHED.contains(&state.as_str()) {
                return None;
            }
            let end = j
                .pointer("/time/end")
                .and_then(Value::as_i64)
                .filter(|e| *e > 0)?;
            let start = j
                .pointer("/time/start")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let elapsed = j.pointer("/time/elapsed").and_then(Value::as_i64)?;
            let gpus = gpu_count(j.pointer("/tres/allocated"))?;
            let gpu_minutes = (gpus * elapsed + 30) / 60;
            if gpu_minutes <= 0 {
                return None;
            }
            let id = j.get("job_id").and_then(Value::as_i64)?;
            Some(JobUsage {
                // Job ids restart when a cluster's database is rebuilt; the start time keeps
                // the reference unique.
                job_ref: format!("{cluster}:{id}:{start}"),
                account: non_empty(text(j, "account"))?,
                gpu_minutes,
                ended_at: Utc.timestamp_opt(end, 0).single()?,
            })
        })
        .collect()
}

/// GPU-seconds of every job in a `GET /slurmdb/…/jobs/` reply, finished or running (pending
/// jobs have none): what Slurm has charged, to compare with what Hatchery imported.
pub fn gpu_seconds(v: &Value) -> i64 {
    v.get("jobs")
        .and_then(Value::as_array)
        .map(|jobs| {
            jobs.iter()
                .filter_map(|j| {
                    let gpus = gpu_count(j.pointer("/tres/allocated"))?;
                    let elapsed = j.pointer("/time/elapsed").and_then(Value::as_i64)?;
                    Some(gpus * elapsed.max(0))
                })
                .sum()
        })
        .unwrap_or(0)
}

/// A job as slurmctld sees it (`GET /slurm/v0.0.42/jobs`): whether and why it waits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveJob {
    pub job_id: i64,
    pub account: String,
    pub qos: String,
    /// The base state, e.g. `PENDING`.
    pub state: String,
    /// e.g. `QOSGrpGRESMinutes` when a grant is used up, `None` when nothing holds it.
    pub reason: String,
}

impl LiveJob {
    /// Held because a GPU-minute cap is used up (of its QOS or its association).
    pub fn held_by_gpu_cap(&self) -> bool {
        self.state == "PENDING"
            && matches!(
                self.reason.as_str(),
                "QOSGrpGRESMinutes" | "AssocGrpGRESMinutes"
            )
    }
}

pub fn live_jobs(v: &Value) -> Vec<LiveJob> {
    v.get("jobs")
        .and_then(Value::as_array)
        .map(|jobs| {
            jobs.iter()
                .filter_map(|j| {
                    Some(LiveJob {
                        job_id: j.get("job_id")?.as_i64()?,
                        account: text(j, "account"),
                        qos: text(j, "qos"),
                        state: base_state(j.get("job_state"))?,
                        reason: text(j, "state_reason"),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

// ---- replies ----------------------------------------------------------------------------------

/// A reply that is not a failure.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    /// 2xx with a JSON body and no errors (warnings may be there).
    Json(Value),
    /// 304 with an empty body: the write changed nothing (it was already so). Not JSON.
    Unchanged,
    /// 200 whose only news is a "… found nothing" warning: an empty result, not an error
    /// (v0.0.42 has no 404 for these, except `/slurm/…/job/ID`).
    NothingFound(Value),
}

/// Why a request failed, in the terms a caller acts on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// 401 text/plain: no token was sent, or only a user name.
    NoCredentials,
    /// The token was refused: 502 with error 7000 "…authentication error" (slurmdbd) or 511
    /// with error 1007 (slurmctld). Re-read the token once before counting a failure. (A bad
    /// token still gets 200 from `/slurm/…/ping`: never use that as an auth check.)
    BadToken(String),
    /// slurmrestd answers but slurmdbd (502, 7000 without "authentication") or slurmctld
    /// (502, 1800) does not: try again later.
    Unavailable(String),
    /// The request does not fit the schema (500 with 9200 missing field, 9207 unknown flag,
    /// 9208 wrong type; 400 "Unable to parse query."): a bug on our side, retrying will not help.
    Invalid(String),
    /// 2002 Access/permission denied: the token's user may not do this.
    Denied(String),
    /// 404 (2017 invalid job id).
    NotFound(String),
    /// Anything else, with its HTTP status.
    Other(String),
}

/// One entry of `errors[]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlurmError {
    pub number: i64,
    pub error: String,
    pub description: String,
    pub source: String,
}

impl std::fmt::Display for SlurmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}): {}", self.error, self.number, self.description)?;
        if !self.source.is_empty() {
            write!(f, " at {}", self.source)?;
        }
        Ok(())
    }
}

pub fn errors(v: &Value) -> Vec<SlurmError> {
    v.get("errors")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .map(|e| SlurmError {
                    number: e.get("error_number").and_then(Value::as_i64).unwrap_or(0),
                    error: text(e, "error"),
                    description: text(e, "description"),
                    source: text(e, "source"),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The `description`s of `warnings[]`.
pub fn warnings(v: &Value) -> Vec<String> {
    v.get("warnings")
        .and_then(Value::as_array)
        .map(|l| l.iter().map(|w| text(w, "description")).collect())
        .unwrap_or_default()
}

fn found_nothing(v: &Value) -> bool {
    warnings(v).iter().any(|w| w.ends_with("found nothing"))
}

/// Sorts a reply out by its status and body.
pub fn classify(status: u16, body: &str) -> Result<Reply, Failure> {
    if status == 304 {
        return Ok(Reply::Unchanged);
    }
    if status == 401 {
        return Err(Failure::NoCredentials);
    }
    let short = || body.chars().take(200).collect::<String>();
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return Err(match status {
            400 => Failure::Invalid(format!("HTTP 400: {}", short())),
            404 => Failure::NotFound(format!("HTTP 404: {}", short())),
            _ => Failure::Other(format!("HTTP {status}, not JSON: {}", short())),
        });
    };
    let errs = errors(&v);
    if (200..300).contains(&status) && errs.is_empty() {
        return Ok(if found_nothing(&v) {
            Reply::NothingFound(v)
        } else {
            Reply::Json(v)
        });
    }
    let message = if errs.is_empty() {
        format!("HTTP {status}")
    } else {
        let all: Vec<String> = errs.iter().map(SlurmError::to_string).collect();
        format!("HTTP {status}: {}", all.join("; "))
    };
    let has = |n: i64| errs.iter().any(|e| e.number == n);
    Err(
        if has(1007) || (has(7000) && message.contains("authentication error")) {
            Failure::BadToken(message)
        } else if has(7000) || has(1800) {
            Failure::Unavailable(message)
        } else if has(2002) {
            Failure::Denied(message)
        } else if status == 404 || has(2017) {
            Failure::NotFound(message)
        } else if status == 400 || errs.iter().any(|e| (9000..10000).contains(&e.number)) {
            Failure::Invalid(message)
        } else {
            Failure::Other(message)
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(text: &str) -> Value {
        serde_json::from_str(text).expect("fixture is JSON")
    }

    const ASSOCIATIONS: &str = include_str!("fixtures/associations.json");
    const ASSOCIATIONS_LIMITS: &str = include_str!("fixtures/associations_limits.json");
    const ASSOCIATIONS_NOTHING: &str = include_str!("fixtures/associations_nothing.json");
    const QOS: &str = include_str!("fixtures/qos.json");
    const JOBS_FINISHED: &str = include_str!("fixtures/jobs_finished.json");
    const JOBS_RUNNING: &str = include_str!("fixtures/jobs_running.json");
    const CTLD_JOBS: &str = include_str!("fixtures/ctld_jobs.json");

    #[test]
    fn numbers_read_and_write_as_set_infinite_number() {
        let unset = json!({"set": false, "infinite": true, "number": 0});
        assert_eq!(Number::read(Some(&unset)), Number::Unset);
        assert_eq!(Number::read(None), Number::Unset);
        let five = json!({"set": true, "infinite": false, "number": 5});
        assert_eq!(Number::read(Some(&five)), Number::Value(5));
        assert_eq!(Number::read(Some(&five)).value(), Some(5));
        let inf = json!({"set": true, "infinite": true, "number": 0});
        assert_eq!(Number::read(Some(&inf)), Number::Infinite);
        for n in [Number::Unset, Number::Infinite, Number::Value(7)] {
            assert_eq!(Number::read(Some(&n.to_json())), n);
        }
        assert_eq!(Number::Unset.to_json(), unset);
    }

    #[test]
    fn reads_account_member_and_partition_rows_keyed_by_name() {
        let rows = associations(&fixture(ASSOCIATIONS), "ci2411");
        let keys: Vec<(Option<&str>, Option<&str>)> = rows
            .iter()
            .map(|a| (a.user.as_deref(), a.partition.as_deref()))
            .collect();
        assert_eq!(
            keys,
            [
                (None, None),
                (Some("alice"), None),
                (Some("bob"), None),
                (Some("carol"), Some("debug"))
            ]
        );
        let own = &rows[0];
        assert!(own.is_account_row());
        assert!(!rows[3].is_account_row());
        assert_eq!(own.account, "startup-1");
        assert_eq!(own.parent.as_deref(), Some("root"));
        assert_eq!(rows[1].parent, None);
        assert_eq!(own.qos, ["normal"]);
        assert_eq!(own.default_qos, None);
        assert_eq!(own.gpu_minutes, None);
        assert_eq!(
            rows[3].key(),
            AssocKey {
                cluster: "ci2411".into(),
                account: "startup-1".into(),
                user: "carol".into(),
                partition: "debug".into()
            }
        );
        // Every row has id 0: the key is the only way to tell them apart.
        let ids: Vec<i64> = fixture(ASSOCIATIONS)["associations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, [0, 0, 0, 0]);
        let mut distinct: Vec<AssocKey> = rows.iter().map(Assoc::key).collect();
        distinct.dedup();
        assert_eq!(distinct.len(), 4);
        assert!(associations(&fixture(ASSOCIATIONS), "other").is_empty());
    }

    #[test]
    fn reads_the_gpu_cap_from_the_group_minutes_list() {
        let rows = associations(&fixture(ASSOCIATIONS_LIMITS), "ci2411");
        let own = rows.iter().find(|a| a.is_account_row()).unwrap();
        assert_eq!(own.gpu_minutes, Some(600));
        // GrpTRES gres/gpu=2 is another list: not the cap.
        assert_eq!(gpu_count(own.max.pointer("/tres/total")), Some(2));
        assert_eq!(
            Number::read(own.max.pointer("/jobs/active")),
            Number::Value(5)
        );
        assert_eq!(
            Number::read(own.max.pointer("/jobs/accruing")),
            Number::Unset
        );
    }

    #[test]
    fn nothing_found_is_an_empty_reply_not_an_error() {
        let body = ASSOCIATIONS_NOTHING;
        match classify(200, body) {
            Ok(Reply::NothingFound(v)) => assert!(associations(&v, "ci2411").is_empty()),
            other => panic!("{other:?}"),
        }
        assert!(matches!(classify(200, ASSOCIATIONS), Ok(Reply::Json(_))));
    }

    #[test]
    fn an_update_sends_every_limit_back_and_changes_only_the_cap() {
        let rows = associations(&fixture(ASSOCIATIONS_LIMITS), "ci2411");
        let own = rows.iter().find(|a| a.is_account_row()).unwrap();
        let row = association_update(
            own,
            &AssocChange {
                gpu_minutes: Some(Some(1200)),
                qos: None,
            },
        );
        assert_eq!(row["user"], "");
        assert_eq!(row["partition"], "");
        assert_eq!(row["account"], "startup-1");
        assert_eq!(row["cluster"], "ci2411");
        // Every other TRES list and scalar of `max` is as read.
        let read_max = &own.max;
        for list in [
            "/tres/total",
            "/tres/group/active",
            "/tres/minutes/per/job",
            "/tres/per/job",
            "/tres/per/node",
            "/tres/minutes/total",
        ] {
            assert_eq!(row["max"].pointer(list), read_max.pointer(list), "{list}");
        }
        assert_eq!(row["max"]["jobs"], read_max["jobs"]);
        assert_eq!(row["max"]["per"], read_max["per"]);
        assert_eq!(
            row["max"]["tres"]["group"]["minutes"],
            json!([{"type": "gres", "name": "gpu", "count": 1200}])
        );
        assert!(row.get("qos").is_none());
        // What the reply to this body looks like when applied.
        assert!(matches!(
            classify(200, r#"{"errors":[],"warnings":[]}"#),
            Ok(Reply::Json(_))
        ));
    }

    #[test]
    fn an_update_keeps_other_tres_in_the_cap_list_and_can_remove_the_cap() {
        let mut own = associations(&fixture(ASSOCIATIONS_LIMITS), "ci2411")
            .into_iter()
            .find(|a| a.is_account_row())
            .unwrap();
        own.max["tres"]["group"]["minutes"] = json!([
            {"type": "cpu", "name": "", "id": 1, "count": 1000},
            {"type": "gres", "name": "gpu", "id": 1001, "count": 800}
        ]);
        let removed = association_update(
            &own,
            &AssocChange {
                gpu_minutes: Some(None),
                qos: None,
            },
        );
        assert_eq!(
            removed["max"]["tres"]["group"]["minutes"],
            json!([{"type": "cpu", "name": "", "id": 1, "count": 1000}])
        );
        let kept = association_update(&own, &AssocChange::default());
        assert_eq!(
            kept["max"]["tres"]["group"]["minutes"],
            own.max["tres"]["group"]["minutes"]
        );
    }

    #[test]
    fn an_update_attaches_the_qos_as_the_only_one_and_default() {
        let rows = associations(&fixture(ASSOCIATIONS), "ci2411");
        let row = association_update(
            &rows[0],
            &AssocChange {
                gpu_minutes: None,
                qos: Some((vec!["startup-1".into()], "startup-1".into())),
            },
        );
        assert_eq!(row["qos"], json!(["startup-1"]));
        assert_eq!(row["default"], json!({"qos": "startup-1"}));
        // A blank row (just created) still sends the lists, empty.
        let blank = association_update(
            &Assoc::blank("ci2411", "startup-9", None),
            &AssocChange {
                gpu_minutes: Some(Some(60)),
                qos: None,
            },
        );
        assert_eq!(
            blank,
            json!({"account": "startup-9", "cluster": "ci2411", "user": "", "partition": "",
                   "max": {"tres": {"group": {"minutes": [{"type": "gres", "name": "gpu", "count": 60}]}}}})
        );
        let body = associations_body(vec![row, blank]);
        assert_eq!(body["associations"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn accounts_association_creates_account_and_row_in_one_call() {
        let accounts = vec!["startup-1".to_string()];
        let body = accounts_association_body(&NewAccount {
            accounts: &accounts,
            cluster: "ci2411",
            parent: "root",
            description: "startup one",
            organization: "acme",
            gpu_minutes: Some(600),
            qos: None,
        });
        assert_eq!(
            body,
            json!({"association_condition": {"accounts": ["startup-1"], "clusters": ["ci2411"],
                     "association": {"parent": "root",
                                     "grptresmins": [{"type": "gres", "name": "gpu", "count": 600}]}},
                   "account": {"description": "startup one", "organization": "acme"}})
        );
        let with_qos = accounts_association_body(&NewAccount {
            accounts: &accounts,
            cluster: "ci2411",
            parent: "hatchery-park",
            description: "d",
            organization: "o",
            gpu_minutes: None,
            qos: Some("startup-1"),
        });
        assert_eq!(
            with_qos["association_condition"]["association"],
            json!({"parent": "hatchery-park", "qoslevel": ["startup-1"], "defaultqos": "startup-1"})
        );
        // The real replies: added (200), then the same body again (304, empty).
        let added = include_str!("fixtures/accounts_association_added.json");
        match classify(200, added) {
            Ok(Reply::Json(v)) => {
                assert!(v["added_accounts"].as_str().unwrap().contains("startup-1"));
                assert_eq!(v.pointer("/meta/slurm/release"), Some(&json!("24.11.5")));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(classify(304, ""), Ok(Reply::Unchanged));
    }

    #[test]
    fn accounts_carry_description_and_organization() {
        let body = accounts_body(&[("startup-1", "Acme AI"), ("startup-2", "Beta")]);
        assert_eq!(
            body["accounts"][0],
            json!({"name": "startup-1", "organization": "Acme AI", "description": "Hatchery: Acme AI"})
        );
        assert_eq!(body["accounts"][1]["name"], "startup-2");
        let read = fixture(include_str!("fixtures/accounts.json"));
        let startup = accounts(&read).into_iter().find(|a| a.name == "startup-1");
        assert_eq!(
            startup,
            Some(Account {
                name: "startup-1".into(),
                description: "Hatchery: Acme AI".into(),
                organization: "acme ai".into()
            })
        );
    }

    #[test]
    fn members_of_many_accounts_are_added_in_two_calls_without_moving_defaults() {
        let v = json!({"users": [
            {"name": "root", "default": {"account": ""}, "associations": []},
            {"name": "alice", "default": {"account": "startup-9"}, "associations": [
                {"account": "startup-9", "cluster": "ci2411", "partition": "", "user": "alice", "id": 31},
                {"account": "startup-2", "cluster": "ci2411", "partition": "", "user": "alice", "id": 32},
                {"account": "other", "cluster": "elsewhere", "partition": "", "user": "alice", "id": 33}]}]});
        assert_eq!(
            users(&v, "ci2411"),
            [
                User {
                    name: "root".into(),
                    default_account: String::new(),
                    accounts: vec![]
                },
                User {
                    name: "alice".into(),
                    default_account: "startup-9".into(),
                    accounts: vec!["startup-9".into(), "startup-2".into()]
                }
            ]
        );
        // Only users that do not exist yet are created, with the account they join as default.
        assert_eq!(
            default_accounts_body(&[("bob", "startup-1")]),
            json!({"users": [{"name": "bob", "default": {"account": "startup-1"}}]})
        );
        // One association row per membership, with no `partition` (see member_rows_body).
        assert_eq!(
            member_rows_body("ci2411", &[("startup-1", "alice"), ("startup-2", "bob")]),
            json!({"associations": [
                {"account": "startup-1", "cluster": "ci2411", "user": "alice"},
                {"account": "startup-2", "cluster": "ci2411", "user": "bob"}]})
        );
        let added = include_str!("fixtures/users_association_added.json");
        assert!(matches!(classify(200, added), Ok(Reply::Json(_))));
        assert_eq!(
            member_query("startup-1", "ci2411", "carol"),
            [
                ("account", "startup-1"),
                ("cluster", "ci2411"),
                ("user", "carol")
            ]
        );
    }

    #[test]
    fn reads_a_qos_cap_and_flags() {
        let list = qos_list(&fixture(QOS));
        assert_eq!(list.len(), 1);
        let q = &list[0];
        assert_eq!(q.id, 2);
        assert_eq!(q.name, "startup-2");
        assert_eq!(q.flags, ["DENY_LIMIT", "NO_DECAY"]);
        assert_eq!(q.gpu_minutes, Some(300));
        assert!(q.enforces(300));
        assert!(!q.enforces(301));
        let mut decaying = q.clone();
        decaying.flags = vec!["DENY_LIMIT".into()];
        assert!(!decaying.enforces(300));
    }

    #[test]
    fn a_qos_write_always_sends_the_flags_with_the_cap() {
        let new = qos_row("startup-1", "Hatchery: Acme", 120, None);
        assert_eq!(
            new,
            json!({"name": "startup-1", "description": "Hatchery: Acme",
                   "flags": ["NO_DECAY", "DENY_LIMIT"],
                   "limits": {"max": {"tres": {"minutes": {"total": [
                       {"type": "gres", "name": "gpu", "count": 120}]}}}}})
        );
        let mut read = qos_list(&fixture(QOS)).remove(0);
        read.flags.push("NO_RESERVE".into());
        read.minutes_total = json!([{"type": "cpu", "name": "", "id": 1, "count": 9},
                                    {"type": "gres", "name": "gpu", "id": 1001, "count": 300}]);
        let update = qos_row("startup-2", "Hatchery: Beta", 400, Some(&read));
        assert_eq!(
            update["flags"],
            json!(["DENY_LIMIT", "NO_DECAY", "NO_RESERVE"])
        );
        assert_eq!(
            update["limits"]["max"]["tres"]["minutes"]["total"],
            json!([{"type": "cpu", "name": "", "id": 1, "count": 9},
                   {"type": "gres", "name": "gpu", "count": 400}])
        );
        assert_eq!(
            qos_body(vec![new, update])["qos"].as_array().unwrap().len(),
            2
        );
    }

    #[test]
    fn counts_gpu_minutes_of_finished_jobs_from_state_arrays() {
        let jobs = finished_jobs(&fixture(JOBS_FINISHED), "ci2411");
        // Jobs 1-5: COMPLETED 2×20 s, 2×20 s, 1×5 s, FAILED 1×3 s, CANCELLED 1×13 s. Each
        // job is rounded to the nearest GPU-minute, as with v0.0.38: the short ones round to 0.
        let got: Vec<(&str, i64)> = jobs
            .iter()
            .map(|j| (j.job_ref.as_str(), j.gpu_minutes))
            .collect();
        assert_eq!(
            got,
            [("ci2411:1:1796552553", 1), ("ci2411:2:1796552573", 1)]
        );
        assert!(jobs.iter().all(|j| j.account == "startup-1"));
        assert_eq!(jobs[0].ended_at.timestamp(), 1796552573);
        // The energy TRES is -2 in every job: it is not a count.
        let v = fixture(JOBS_FINISHED);
        assert_eq!(
            v.pointer("/jobs/0/tres/allocated/1/count"),
            Some(&json!(-2))
        );
        // What Slurm charged: 2×20 + 2×20 + 5 + 3 + 13 GPU-seconds.
        assert_eq!(gpu_seconds(&v), 101);
    }

    #[test]
    fn running_and_pending_jobs_are_not_usage_yet() {
        let v = fixture(JOBS_RUNNING);
        assert!(finished_jobs(&v, "ci2411").is_empty());
        // Job 1 had run 6 s on 2 GPUs; the pending ones have no allocation.
        assert_eq!(gpu_seconds(&v), 12);
    }

    #[test]
    fn live_jobs_say_when_a_grant_is_used_up() {
        let jobs = live_jobs(&fixture(CTLD_JOBS));
        let states: Vec<(i64, &str, &str, bool)> = jobs
            .iter()
            .map(|j| {
                (
                    j.job_id,
                    j.state.as_str(),
                    j.reason.as_str(),
                    j.held_by_gpu_cap(),
                )
            })
            .collect();
        assert_eq!(
            states,
            [
                (1, "RUNNING", "None", false),
                (2, "PENDING", "QOSGrpGRESMinutes", true),
                (3, "PENDING", "QOSGrpGRESMinutes", true)
            ]
        );
        assert!(jobs.iter().all(|j| j.qos == "startup-1"));
    }

    #[test]
    fn base_state_skips_flags() {
        assert_eq!(
            base_state(Some(&json!(["COMPLETING", "RUNNING"]))).as_deref(),
            Some("RUNNING")
        );
        assert_eq!(
            base_state(Some(&json!(["CANCELLED", "REQUEUED"]))).as_deref(),
            Some("CANCELLED")
        );
        assert_eq!(base_state(Some(&json!("COMPLETED"))), None);
    }

    #[test]
    fn the_jobs_window_starts_at_the_last_import() {
        assert_eq!(
            jobs_query("startup-1", None),
            [("account", "startup-1".to_string())]
        );
        let since = Utc.timestamp_opt(1796552596, 0).unwrap();
        assert_eq!(
            jobs_query("startup-1", Some(since)),
            [
                ("account", "startup-1".to_string()),
                ("start_time", "1796552596".to_string())
            ]
        );
    }

    fn failure(status: u16, body: &str) -> Failure {
        classify(status, body).expect_err("a failure")
    }

    #[test]
    fn tells_a_bad_token_from_a_missing_one_and_from_a_daemon_that_is_down() {
        assert_eq!(
            failure(401, "Authentication failure"),
            Failure::NoCredentials
        );
        assert!(matches!(
            failure(502, include_str!("fixtures/error_7000.json")),
            Failure::BadToken(m) if m.contains("authentication error")
        ));
        assert!(matches!(
            failure(511, include_str!("fixtures/error_1007.json")),
            Failure::BadToken(m) if m.contains("1007")
        ));
        // slurmdbd down: the same 502 and 7000, without "authentication".
        assert!(matches!(
            failure(502, include_str!("fixtures/error_7000_slurmdbd_down.json")),
            Failure::Unavailable(_)
        ));
        assert!(matches!(
            failure(502, include_str!("fixtures/error_1800_slurmctld_down.json")),
            Failure::Unavailable(_)
        ));
    }

    #[test]
    fn schema_errors_and_permission_are_told_apart() {
        for (file, number) in [
            (include_str!("fixtures/error_9200.json"), "9200"),
            (include_str!("fixtures/error_9207.json"), "9207"),
            (include_str!("fixtures/error_9208.json"), "9208"),
        ] {
            match failure(500, file) {
                Failure::Invalid(m) => assert!(m.contains(number) && m.contains("#/"), "{m}"),
                other => panic!("{number}: {other:?}"),
            }
        }
        assert!(matches!(
            failure(500, include_str!("fixtures/error_2002.json")),
            Failure::Denied(m) if m.contains("permission denied")
        ));
        assert!(matches!(
            failure(404, include_str!("fixtures/error_2017.json")),
            Failure::NotFound(_)
        ));
        assert!(matches!(
            failure(400, "Unable to parse query."),
            Failure::Invalid(_)
        ));
        assert!(matches!(failure(503, "<html>"), Failure::Other(_)));
        // 200 that still carries errors is not a success.
        assert!(matches!(
            failure(200, include_str!("fixtures/error_2002.json")),
            Failure::Denied(_)
        ));
        let errs = errors(&fixture(include_str!("fixtures/error_9200.json")));
        assert_eq!(
            errs[0].to_string(),
            "Unable to resolve path (9200): Missing required field 'user' in dictionary at #/associations[0]/user/"
        );
    }
}
