//! The JSON of slurmrestd's v0.0.42 dialect (`/slurmdb/v0.0.42`, `/slurm/v0.0.42`), the one
//! version Slurm 24.11 through 26.05 all serve. Pure functions: what to send, how to read the
//! replies, how to tell the replies apart. Shapes and quirks were measured on Slurm 24.11.5
//! (scripts/slurm-2411.sh); the fixtures beside this folder are its real replies.
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

pub(super) fn is_gpu(t: &Value) -> bool {
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

pub(super) fn text(v: &Value, key: &str) -> String {
    v.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

pub(super) fn non_empty(s: String) -> Option<String> {
    Some(s).filter(|s| !s.is_empty())
}

pub(super) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

mod associations;
mod jobs;
mod qos;
mod replies;
pub use associations::*;
pub use jobs::*;
pub use qos::*;
pub use replies::*;

#[cfg(test)]
mod tests;
