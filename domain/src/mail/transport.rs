//! How a message leaves: an SMTP server, or .eml files in the data directory when none is set.
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::path::PathBuf;

#[derive(Clone)]
pub enum Mailer {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Files(PathBuf),
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Mailer::Smtp(_) => f.write_str("Mailer::Smtp"),
            Mailer::Files(dir) => write!(f, "Mailer::Files({})", dir.display()),
        }
    }
}

impl Mailer {
    /// `smtp://host:port` (plain or STARTTLS by `?tls=`), `smtps://` for implicit TLS.
    pub fn smtp(url: &str) -> Result<Self, String> {
        AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map(|b| Mailer::Smtp(b.timeout(Some(std::time::Duration::from_secs(20))).build()))
            .map_err(|e| e.to_string())
    }

    pub fn files(dir: PathBuf) -> Self {
        Mailer::Files(dir)
    }

    pub fn file_dir(&self) -> Option<&PathBuf> {
        match self {
            Mailer::Files(dir) => Some(dir),
            Mailer::Smtp(_) => None,
        }
    }

    /// Hands one message over; returns a reference to where it went.
    pub async fn deliver(
        &self,
        file_stem: &str,
        message: lettre::Message,
    ) -> Result<String, String> {
        match self {
            Mailer::Smtp(transport) => transport
                .send(message)
                .await
                .map(|response| response.message().collect::<Vec<_>>().join(" "))
                .map_err(|e| e.to_string()),
            Mailer::Files(dir) => {
                tokio::fs::create_dir_all(dir)
                    .await
                    .map_err(|e| e.to_string())?;
                let path = dir.join(format!("{file_stem}.eml"));
                let tmp = dir.join(format!(".{file_stem}.eml.tmp"));
                tokio::fs::write(&tmp, message.formatted())
                    .await
                    .map_err(|e| e.to_string())?;
                tokio::fs::rename(&tmp, &path)
                    .await
                    .map_err(|e| e.to_string())?;
                Ok(path.display().to_string())
            }
        }
    }
}
