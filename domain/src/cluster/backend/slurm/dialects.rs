//! The slurmrestd dialects Hatchery speaks, how a resource chooses one (pinned, or `auto`: the
//! newest both sides speak), and how a v0.0.42 resource enforces its cap.
use super::super::{SyncError, SyncResult};
use serde_json::Value;

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
