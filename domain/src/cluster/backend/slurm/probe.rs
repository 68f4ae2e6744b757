//! Checking a Slurm resource's settings against its slurmrestd before they are saved: each
//! fault names the one setting to fix.
use super::*;

/// What is wrong with a Slurm resource's settings, as found by asking its slurmrestd: each
/// names the one setting to fix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeError {
    /// Nothing answers at the base URL (or not slurmrestd).
    Unreachable(String),
    /// The token file cannot be read or is empty.
    TokenFile(String),
    /// slurmrestd wants a token and got none, or refused the one given.
    TokenRefused,
    /// The pinned dialect is not among those the server serves.
    DialectNotServed { served: Vec<String> },
    /// The server serves none of the dialects Hatchery speaks.
    NoDialect { served: Vec<String> },
    /// slurmdbd knows no cluster of that name.
    UnknownCluster,
    /// The parent account (v0.0.42) is not an account of the cluster.
    UnknownParent,
}

impl Slurm {
    /// Checks a resource's settings against its cluster before they are stored: slurmrestd
    /// answers, serves the dialect (pinned, or one for `auto`), accepts the token, and its
    /// slurmdbd knows the cluster. Only reads. Returns the dialect the resource will speak.
    pub async fn probe(&self) -> Result<Dialect, ProbeError> {
        let served = self.served_dialects().await.map_err(|e| match e {
            SyncError::Config(m) => ProbeError::TokenFile(m),
            SyncError::Refused(m) if m.contains("token") || m.contains("HTTP 401") => {
                ProbeError::TokenRefused
            }
            other => ProbeError::Unreachable(other.to_string()),
        })?;
        let dialect = match self.choice {
            DialectChoice::Pinned(d) if served.iter().any(|s| s == d.version()) => d,
            DialectChoice::Pinned(_) => return Err(ProbeError::DialectNotServed { served }),
            DialectChoice::Auto => {
                Dialect::newest_of(&served).ok_or(ProbeError::NoDialect { served })?
            }
        };
        // slurmdbd checks the token (the OpenAPI description does not) and knows the cluster.
        let path = format!("/slurmdb/{}/cluster/{}", dialect.version(), self.cluster);
        let (status, text) = self
            .exchange_authed(&Method::GET, &self.url_of(&path, &[]), None)
            .await
            .map_err(|e| match e {
                SyncError::Config(m) => ProbeError::TokenFile(m),
                SyncError::Refused(_) => ProbeError::TokenRefused,
                other => ProbeError::Unreachable(other.to_string()),
            })?;
        if status.as_u16() == 401 {
            return Err(ProbeError::TokenRefused);
        }
        let v: Value = serde_json::from_str(&text).map_err(|_| {
            ProbeError::Unreachable(format!(
                "HTTP {status}: {}",
                text.chars().take(200).collect::<String>()
            ))
        })?;
        let known = v
            .get("clusters")
            .and_then(Value::as_array)
            .is_some_and(|l| {
                l.iter()
                    .any(|c| c.get("name").and_then(Value::as_str) == Some(self.cluster.as_str()))
            });
        if !known {
            return Err(ProbeError::UnknownCluster);
        }
        // Startup accounts are made under the parent: it must be there (root always is).
        if dialect.is_v0042_family() && self.parent != "root" {
            let path = format!("/slurmdb/{}/associations/", dialect.version());
            let query = [
                ("account", self.parent.as_str()),
                ("cluster", &self.cluster),
            ];
            let (_, text) = self
                .exchange_authed(&Method::GET, &self.url_of(&path, &query), None)
                .await
                .map_err(|e| ProbeError::Unreachable(e.to_string()))?;
            let rows = serde_json::from_str::<Value>(&text)
                .map(|v| v0042::associations(&v, &self.cluster))
                .unwrap_or_default();
            if !rows
                .iter()
                .any(|a| a.account == self.parent && a.is_account_row())
            {
                return Err(ProbeError::UnknownParent);
            }
        }
        if self.choice == DialectChoice::Auto {
            DETECTED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(self.origin.clone(), dialect);
        }
        Ok(dialect)
    }
}

/// Whether a reply says the credentials were missing or the token refused (the same in every
/// dialect that has JWT).
pub(super) fn token_refused(status: u16, text: &str) -> bool {
    matches!(
        v0042::classify(status, text),
        Err(v0042::Failure::NoCredentials | v0042::Failure::BadToken(_))
    )
}
