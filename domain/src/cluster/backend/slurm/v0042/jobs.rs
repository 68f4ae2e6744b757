//! v0.0.42 jobs: finished jobs read as GPU-minutes per account.
use super::*;

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
pub(super) fn base_state(list: Option<&Value>) -> Option<String> {
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
