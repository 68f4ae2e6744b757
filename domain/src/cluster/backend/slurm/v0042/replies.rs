//! v0.0.42 replies: telling errors, warnings, "nothing changed" and "nothing found" apart.
use super::*;

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
