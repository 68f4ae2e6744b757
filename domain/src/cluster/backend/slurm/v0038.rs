//! The JSON of Slurm 22.05's slurmrestd accounting API (`/slurmdb/v0.0.38`). Everything that
//! depends on this version lives here, so that a newer dialect (v0.0.40+, where numbers become
//! `{set, infinite, number}`) can sit beside it.
use super::super::JobUsage;
use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

pub const PREFIX: &str = "/slurmdb/v0.0.38";

/// One association row, as far as Hatchery cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Assoc {
    pub account: String,
    /// None for the account's own association; a member's login otherwise.
    pub user: Option<String>,
    pub parent: Option<String>,
    /// GrpTRESMins for gres/gpu. 22.05 mislabels it in its schema: it is
    /// `max.tres.group.minutes`, not `max.tres.minutes.total` (that is MaxTRESRunMins).
    pub gpu_minutes: Option<i64>,
}

pub fn account_body(name: &str, organization: &str) -> Value {
    json!({"accounts": [{
        "name": name,
        "organization": organization,
        "description": format!("Hatchery: {organization}"),
    }]})
}

/// The account's own association with its GPU-minute cap. `None` removes the cap: 22.05
/// segfaults on an empty or missing list while a limit is set, so removal is `count: -1`.
/// Never sends `user`: `"user": ""` creates a broken row.
pub fn account_association_body(
    account: &str,
    cluster: &str,
    parent: &str,
    limit: Option<i64>,
) -> Value {
    json!({"associations": [{
        "account": account,
        "cluster": cluster,
        "parent_account": parent,
        "max": {"tres": {"group": {"minutes": [
            {"type": "gres", "name": "gpu", "count": limit.unwrap_or(-1)}
        ]}}},
    }]})
}

/// An umbrella account's association, without limits.
pub fn plain_association_body(account: &str, cluster: &str, parent: &str) -> Value {
    json!({"associations": [{"account": account, "cluster": cluster, "parent_account": parent}]})
}

pub fn user_body(login: &str, default_account: &str) -> Value {
    json!({"users": [{"name": login, "default": {"account": default_account}}]})
}

pub fn member_association_body(account: &str, cluster: &str, login: &str) -> Value {
    json!({"associations": [{"account": account, "cluster": cluster, "user": login}]})
}

/// The `errors[]` of a reply: 22.05 answers 200 with errors, and some of those are bogus
/// (creating an account association without `user` reports "Missing required field 'user'"
/// although it worked), so callers verify by reading back rather than trusting either.
pub fn errors(v: &Value) -> Vec<String> {
    v.get("errors")
        .and_then(Value::as_array)
        .map(|errs| {
            errs.iter()
                .map(|e| {
                    e.get("error")
                        .or_else(|| e.get("description"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                        .unwrap_or_else(|| e.to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

pub fn is_bogus_missing_user(message: &str) -> bool {
    message.contains("Missing required field 'user'")
}

/// A read that matched nothing: 22.05 answers it with HTTP 500 and this error.
pub fn is_nothing_found(message: &str) -> bool {
    message.contains("Nothing found")
}

pub fn associations(v: &Value, cluster: &str) -> Vec<Assoc> {
    let Some(rows) = v.get("associations").and_then(Value::as_array) else {
        return Vec::new();
    };
    rows.iter()
        .filter(|r| {
            r.get("cluster")
                .and_then(Value::as_str)
                .is_none_or(|c| c == cluster)
        })
        .filter_map(|r| {
            let account = r.get("account")?.as_str()?.to_string();
            let user = r
                .get("user")
                .and_then(Value::as_str)
                .filter(|u| !u.is_empty())
                .map(str::to_string);
            let parent = r
                .get("parent_account")
                .and_then(Value::as_str)
                .filter(|p| !p.is_empty())
                .map(str::to_string);
            let gpu_minutes = r
                .pointer("/max/tres/group/minutes")
                .and_then(Value::as_array)
                .and_then(|list| {
                    list.iter().find(|t| {
                        t.get("type").and_then(Value::as_str) == Some("gres")
                            && t.get("name").and_then(Value::as_str) == Some("gpu")
                    })
                })
                .and_then(|t| t.get("count").and_then(Value::as_i64))
                .filter(|c| *c >= 0);
            Some(Assoc {
                account,
                user,
                parent,
                gpu_minutes,
            })
        })
        .collect()
}

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

/// Finished jobs with GPUs: GPU-minutes = GPUs × elapsed seconds / 60, to the nearest minute.
/// Counts may be null (energy), and a running job has `end: 0`; both are skipped.
pub fn finished_jobs(v: &Value, cluster: &str) -> Vec<JobUsage> {
    let Some(jobs) = v.get("jobs").and_then(Value::as_array) else {
        return Vec::new();
    };
    jobs.iter()
        .filter_map(|j| {
            let state = j.pointer("/state/current").and_then(Value::as_str)?;
            if !FINISHED.contains(&state) {
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
            let gpus = j
                .pointer("/tres/allocated")
                .and_then(Value::as_array)?
                .iter()
                .find(|t| {
                    t.get("type").and_then(Value::as_str) == Some("gres")
                        && t.get("name").and_then(Value::as_str) == Some("gpu")
                })
                .and_then(|t| t.get("count").and_then(Value::as_i64))?;
            let gpu_minutes = (gpus * elapsed + 30) / 60;
            if gpu_minutes <= 0 {
                return None;
            }
            let id = j.get("job_id").and_then(Value::as_i64)?;
            Some(JobUsage {
                // Job ids restart when a cluster's database is rebuilt; the start time keeps
                // the reference unique.
                job_ref: format!("{cluster}:{id}:{start}"),
                account: j.get("account").and_then(Value::as_str)?.to_string(),
                gpu_minutes,
                ended_at: Utc.timestamp_opt(end, 0).single()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_account_row_and_members() {
        let v = json!({"associations": [
            {"account": "startup-1", "cluster": "ci", "parent_account": "root", "user": null,
             "max": {"tres": {"group": {"minutes": [{"type": "gres", "name": "gpu", "id": 1001, "count": 600}], "active": []},
                               "minutes": {"per": {"job": []}, "total": []}}}},
            {"account": "startup-1", "cluster": "ci", "parent_account": null, "user": "alice",
             "max": {"tres": {"group": {"minutes": []}}}},
            {"account": "startup-1", "cluster": "other", "user": "bob"}
        ], "errors": []});
        let rows = associations(&v, "ci");
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].gpu_minutes, Some(600));
        assert_eq!(rows[0].user, None);
        assert_eq!(rows[0].parent.as_deref(), Some("root"));
        assert_eq!(rows[1].user.as_deref(), Some("alice"));
        assert_eq!(rows[1].gpu_minutes, None);
    }

    #[test]
    fn counts_gpu_minutes_of_finished_jobs_only() {
        let v = json!({"jobs": [
            {"job_id": 13, "account": "startup-1", "state": {"current": "COMPLETED"},
             "time": {"elapsed": 65, "start": 1700000000, "end": 1700000065},
             "tres": {"allocated": [{"type": "cpu", "count": 1}, {"type": "energy", "count": null},
                                     {"type": "gres", "name": "gpu", "id": 1001, "count": 2}]}},
            {"job_id": 14, "account": "startup-1", "state": {"current": "RUNNING"},
             "time": {"elapsed": 600, "start": 1700000100, "end": 0},
             "tres": {"allocated": [{"type": "gres", "name": "gpu", "count": 1}]}},
            {"job_id": 15, "account": "startup-1", "state": {"current": "COMPLETED"},
             "time": {"elapsed": 600, "start": 1700000100, "end": 1700000700},
             "tres": {"allocated": [{"type": "cpu", "count": 4}]}}
        ]});
        let jobs = finished_jobs(&v, "ci");
        assert_eq!(jobs.len(), 1);
        assert_eq!(jobs[0].gpu_minutes, 2);
        assert_eq!(jobs[0].job_ref, "ci:13:1700000000");
    }

    #[test]
    fn reads_errors_even_with_200() {
        let v = json!({"errors": [{"error": "Missing required field 'user'", "error_number": 9}]});
        let errs = errors(&v);
        assert!(is_bogus_missing_user(&errs[0]));
        assert!(errors(&json!({"errors": []})).is_empty());
    }
}
