//! How slurmrestd learns who is asking: nobody over a trusted unix socket, or a JWT (fixed, or
//! read from a file an operator renews, and read again when refused).
use super::super::{SyncError, SyncResult};
use std::path::PathBuf;
use std::sync::Mutex;

/// How slurmrestd learns who is asking.
pub(super) enum Auth {
    /// No token: slurmrestd with rest_auth/local trusts the process at the other end of its
    /// unix socket (Slurm 22.05's test rig).
    Local,
    /// `X-SLURM-USER-TOKEN` (and `X-SLURM-USER-NAME` when a user is set; the token names its
    /// user otherwise).
    Jwt { user: Option<String>, token: Token },
}

pub(super) enum Token {
    /// Stored in the resource's settings as a secret.
    Fixed(String),
    /// A file an operator renews (`scontrol token lifespan=… > FILE` from cron): read on first
    /// use and again when slurmrestd refuses the token it held.
    File {
        path: PathBuf,
        current: Mutex<Option<String>>,
    },
}

/// A token file's text: the bare JWT, or `scontrol token`'s `SLURM_JWT=…` line.
pub fn token_from_file_text(text: &str) -> Option<String> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let jwt = line.strip_prefix("SLURM_JWT=").unwrap_or(line).trim();
    (!jwt.is_empty()).then(|| jwt.to_string())
}

impl Token {
    pub(super) async fn read_file(path: &PathBuf) -> SyncResult<String> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| SyncError::Config(format!("Slurm token file {}: {e}", path.display())))?;
        token_from_file_text(&text).ok_or_else(|| {
            SyncError::Config(format!("Slurm token file {} is empty", path.display()))
        })
    }

    pub(super) async fn current(&self) -> SyncResult<String> {
        match self {
            Token::Fixed(t) => Ok(t.clone()),
            Token::File { path, current } => {
                if let Some(t) = current.lock().unwrap_or_else(|e| e.into_inner()).clone() {
                    return Ok(t);
                }
                let t = Token::read_file(path).await?;
                *current.lock().unwrap_or_else(|e| e.into_inner()) = Some(t.clone());
                Ok(t)
            }
        }
    }

    /// Reads the file again; true when it now holds another token (worth one more try).
    pub(super) async fn reread(&self) -> SyncResult<bool> {
        match self {
            Token::Fixed(_) => Ok(false),
            Token::File { path, current } => {
                let fresh = Token::read_file(path).await?;
                let mut held = current.lock().unwrap_or_else(|e| e.into_inner());
                let changed = held.as_deref() != Some(fresh.as_str());
                *held = Some(fresh);
                Ok(changed)
            }
        }
    }
}

/// `unix:///path/to/slurmrestd.sock` → the socket's path.
pub(super) fn unix_socket(base_url: &str) -> Option<SyncResult<PathBuf>> {
    let path = base_url.trim().strip_prefix("unix://")?;
    Some(if path.starts_with('/') && path.len() > 1 {
        Ok(PathBuf::from(path))
    } else {
        Err(SyncError::Config(
            "base URL must be http(s)://host or unix:///absolute/path.sock".into(),
        ))
    })
}
