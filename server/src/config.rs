//! Typed configuration: defaults, then an optional TOML file, then `HATCHERY_*` variables.
//! Validated once at start, with an error that names the setting at fault.
use serde::Deserialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// A value that must never reach a log line.
#[derive(Clone, Deserialize, Default, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_empty() {
            "\"\""
        } else {
            "[redacted]"
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Database {
    /// The embedded default: a file in the data directory.
    Sqlite(PathBuf),
    Postgres(Secret),
}

#[derive(Clone, Debug, PartialEq, Eq, Copy)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    pub database: Database,
    pub public_url: String,
    pub smtp_url: Option<Secret>,
    pub mail_from: String,
    pub site_root: PathBuf,
    pub log_format: LogFormat,
    pub worker_poll_ms: u64,
    /// How often the worker reads finished jobs back from the clusters.
    pub usage_import_seconds: u64,
    pub session_days: i64,
    pub page_cache_seconds: u64,
    /// The most a request may take before it is answered with an error.
    pub request_timeout_seconds: u64,
    /// Reverse proxies whose `X-Forwarded-For`/`Forwarded` name the client.
    pub trusted_proxies: domain::client::TrustedProxies,
    /// The park's time zone (an IANA name).
    pub time_zone: domain::time::Zone,
    /// How long a worker holds a claimed sync job before another may take it over.
    pub sync_lease_seconds: i64,
}

/// The raw layer as read from a file or the environment; every field optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    addr: Option<String>,
    data_dir: Option<String>,
    database_url: Option<Secret>,
    public_url: Option<String>,
    smtp_url: Option<Secret>,
    mail_from: Option<String>,
    site_root: Option<String>,
    log_format: Option<String>,
    worker_poll_ms: Option<String>,
    usage_import_seconds: Option<String>,
    session_days: Option<String>,
    page_cache_seconds: Option<String>,
    request_timeout_seconds: Option<String>,
    trusted_proxies: Option<String>,
    time_zone: Option<String>,
    sync_lease_seconds: Option<String>,
}

impl Layer {
    fn merge(&mut self, other: Layer) {
        macro_rules! take {
            ($($f:ident),*) => { $( if other.$f.is_some() { self.$f = other.$f; } )* };
        }
        take!(
            addr,
            data_dir,
            database_url,
            public_url,
            smtp_url,
            mail_from,
            site_root,
            log_format,
            worker_poll_ms,
            usage_import_seconds,
            session_days,
            page_cache_seconds,
            request_timeout_seconds,
            trusted_proxies,
            time_zone,
            sync_lease_seconds
        );
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error("{setting}: {problem}")]
    Invalid {
        setting: &'static str,
        problem: String,
    },
    #[error("config file {path}: {problem}")]
    File { path: String, problem: String },
}

fn invalid(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        setting,
        problem: problem.into(),
    }
}

impl Config {
    /// Loads from the process environment (and `HATCHERY_CONFIG`, when set, a TOML file).
    pub fn load() -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        Self::from_sources(&env)
    }

    pub fn from_sources(env: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let mut layer = Layer::default();
        if let Some(path) = env.get("HATCHERY_CONFIG").filter(|p| !p.is_empty()) {
            layer.merge(read_file(Path::new(path))?);
        }
        let var = |k: &str| env.get(k).filter(|v| !v.is_empty()).cloned();
        layer.merge(Layer {
            addr: var("HATCHERY_ADDR"),
            data_dir: var("HATCHERY_DATA_DIR"),
            database_url: var("HATCHERY_DATABASE_URL").map(Secret),
            public_url: var("HATCHERY_PUBLIC_URL"),
            smtp_url: var("HATCHERY_SMTP_URL").map(Secret),
            mail_from: var("HATCHERY_MAIL_FROM"),
            site_root: var("HATCHERY_SITE_ROOT").or_else(|| var("LEPTOS_SITE_ROOT")),
            log_format: var("HATCHERY_LOG_FORMAT"),
            worker_poll_ms: var("HATCHERY_WORKER_POLL_MS"),
            usage_import_seconds: var("HATCHERY_USAGE_IMPORT_SECONDS"),
            session_days: var("HATCHERY_SESSION_DAYS"),
            page_cache_seconds: var("HATCHERY_PAGE_CACHE_SECONDS"),
            request_timeout_seconds: var("HATCHERY_REQUEST_TIMEOUT_SECONDS"),
            trusted_proxies: var("HATCHERY_TRUSTED_PROXIES"),
            time_zone: var("HATCHERY_TIME_ZONE"),
            sync_lease_seconds: var("HATCHERY_SYNC_LEASE_SECONDS"),
        });
        Self::validate(layer)
    }

    fn validate(l: Layer) -> Result<Self, ConfigError> {
        let addr: SocketAddr = l
            .addr
            .as_deref()
            .unwrap_or("127.0.0.1:3000")
            .parse()
            .map_err(|_| invalid("HATCHERY_ADDR", "expected host:port, e.g. 127.0.0.1:3000"))?;
        let data_dir = PathBuf::from(l.data_dir.as_deref().unwrap_or("./data"));
        let database = match l.database_url {
            None => Database::Sqlite(data_dir.join("hatchery.db")),
            Some(url) => {
                let u = url.expose();
                if u.starts_with("postgres://") || u.starts_with("postgresql://") {
                    Database::Postgres(url)
                } else if let Some(path) = u.strip_prefix("sqlite://") {
                    Database::Sqlite(PathBuf::from(path.split('?').next().unwrap_or(path)))
                } else {
                    return Err(invalid(
                        "HATCHERY_DATABASE_URL",
                        "expected a postgres:// or sqlite:// URL",
                    ));
                }
            }
        };
        let public_url = l.public_url.unwrap_or_else(|| format!("http://{addr}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://"))
            || url::Url::parse(&public_url).is_err()
        {
            return Err(invalid(
                "HATCHERY_PUBLIC_URL",
                "expected an http:// or https:// URL",
            ));
        }
        if let Some(smtp) = &l.smtp_url {
            domain::mail::Mailer::smtp(smtp.expose()).map_err(|e| {
                invalid("HATCHERY_SMTP_URL", format!("not a usable SMTP URL ({e})"))
            })?;
        }
        let mail_from = l
            .mail_from
            .unwrap_or_else(|| "Hatchery <noreply@hatchery.localhost>".into());
        mail_from.parse::<lettre::message::Mailbox>().map_err(|_| {
            invalid(
                "HATCHERY_MAIL_FROM",
                "expected a mailbox like Hatchery <noreply@example.org>",
            )
        })?;
        let log_format = match l.log_format.as_deref().unwrap_or("pretty") {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            _ => return Err(invalid("HATCHERY_LOG_FORMAT", "expected pretty or json")),
        };
        let worker_poll_ms = number(
            l.worker_poll_ms.as_deref(),
            1000,
            50..=600_000,
            "HATCHERY_WORKER_POLL_MS",
            "expected milliseconds between 50 and 600000",
        )?;
        let usage_import_seconds = number(
            l.usage_import_seconds.as_deref(),
            300,
            5..=86_400,
            "HATCHERY_USAGE_IMPORT_SECONDS",
            "expected a whole number of seconds from 5 to 86400",
        )?;
        let session_days = number(
            l.session_days.as_deref(),
            14,
            1..=365,
            "HATCHERY_SESSION_DAYS",
            "expected a whole number of days from 1 to 365",
        )?;
        let page_cache_seconds = number(
            l.page_cache_seconds.as_deref(),
            5,
            0..=60,
            "HATCHERY_PAGE_CACHE_SECONDS",
            "expected a whole number of seconds from 0 (off) to 60",
        )?;
        let request_timeout_seconds = number(
            l.request_timeout_seconds.as_deref(),
            30,
            1..=600,
            "HATCHERY_REQUEST_TIMEOUT_SECONDS",
            "expected a whole number of seconds from 1 to 600",
        )?;
        let sync_lease_seconds = number(
            l.sync_lease_seconds.as_deref(),
            120,
            1..=3600,
            "HATCHERY_SYNC_LEASE_SECONDS",
            "expected a whole number of seconds from 1 to 3600",
        )?;
        let trusted_proxies =
            domain::client::TrustedProxies::parse(l.trusted_proxies.as_deref().unwrap_or(""))
                .map_err(|entry| {
                    invalid(
                        "HATCHERY_TRUSTED_PROXIES",
                        format!("{entry:?} is not an address or network (e.g. 10.0.0.0/8)"),
                    )
                })?;
        let time_zone = match l.time_zone.as_deref() {
            None => domain::time::Zone::default(),
            Some(name) => domain::time::Zone::parse(name).ok_or_else(|| {
                invalid(
                    "HATCHERY_TIME_ZONE",
                    format!(
                        "{name:?} is not a time zone of the IANA database \
                         (e.g. Asia/Shanghai, Europe/Berlin)"
                    ),
                )
            })?,
        };
        Ok(Config {
            addr,
            data_dir,
            database,
            public_url,
            smtp_url: l.smtp_url,
            mail_from,
            site_root: PathBuf::from(l.site_root.as_deref().unwrap_or("target/site")),
            log_format,
            worker_poll_ms,
            usage_import_seconds,
            session_days,
            page_cache_seconds,
            request_timeout_seconds,
            trusted_proxies,
            time_zone,
            sync_lease_seconds,
        })
    }

    /// The settings the application layer sees.
    pub fn settings(&self) -> domain::state::Settings {
        let mut s = domain::state::Settings::for_data_dir(self.data_dir.clone());
        s.public_url = self.public_url.clone();
        s.mail_from = self.mail_from.clone();
        s.secure_cookies = self.public_url.starts_with("https://");
        s.session_days = self.session_days;
        s.page_cache_seconds = self.page_cache_seconds;
        s.request_timeout_seconds = self.request_timeout_seconds;
        s.trusted_proxies = std::sync::Arc::new(self.trusted_proxies.clone());
        s.park_zone = self.time_zone;
        s.sync_lease_seconds = self.sync_lease_seconds;
        s
    }

    pub fn mailer(&self) -> domain::mail::Mailer {
        match &self.smtp_url {
            // Validated above.
            Some(url) => {
                domain::mail::Mailer::smtp(url.expose()).unwrap_or_else(|_| self.file_mailer())
            }
            None => self.file_mailer(),
        }
    }

    fn file_mailer(&self) -> domain::mail::Mailer {
        domain::mail::Mailer::files(self.data_dir.join("mail"))
    }
}

/// A whole number setting: `default` when unset, else parsed and within `range`.
fn number<T>(
    value: Option<&str>,
    default: T,
    range: std::ops::RangeInclusive<T>,
    setting: &'static str,
    problem: &str,
) -> Result<T, ConfigError>
where
    T: std::str::FromStr + PartialOrd,
{
    let Some(value) = value else {
        return Ok(default);
    };
    value
        .parse::<T>()
        .ok()
        .filter(|v| range.contains(v))
        .ok_or_else(|| invalid(setting, problem))
}

fn read_file(path: &Path) -> Result<Layer, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        problem: e.to_string(),
    })?;
    // Numbers in TOML are written bare; accept them as the same strings the env would give.
    let value: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::File {
        path: path.display().to_string(),
        problem: e.to_string(),
    })?;
    let mut normalised = toml::Table::new();
    for (k, v) in value {
        let v = match v {
            toml::Value::Integer(i) => toml::Value::String(i.to_string()),
            other => other,
        };
        normalised.insert(k, v);
    }
    normalised
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::File {
            path: path.display().to_string(),
            problem: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_use_sqlite_in_the_data_dir() {
        let c = Config::from_sources(&env(&[])).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:3000");
        assert_eq!(
            c.database,
            Database::Sqlite(PathBuf::from("./data/hatchery.db"))
        );
        assert_eq!(c.public_url, "http://127.0.0.1:3000");
        assert!(c.smtp_url.is_none());
        assert_eq!(c.time_zone.name(), "Asia/Shanghai");
        let c = Config::from_sources(&env(&[("HATCHERY_TIME_ZONE", "Europe/Berlin")])).unwrap();
        assert_eq!(c.settings().park_zone.name(), "Europe/Berlin");
        assert_eq!(c.usage_import_seconds, 300);
        let c = Config::from_sources(&env(&[("HATCHERY_USAGE_IMPORT_SECONDS", "5")])).unwrap();
        assert_eq!(c.usage_import_seconds, 5);
    }

    #[test]
    fn bad_settings_are_named() {
        let err = Config::from_sources(&env(&[("HATCHERY_ADDR", "nope")])).unwrap_err();
        assert!(err.to_string().starts_with("HATCHERY_ADDR:"), "{err}");
        let err =
            Config::from_sources(&env(&[("HATCHERY_DATABASE_URL", "mysql://x")])).unwrap_err();
        assert!(
            err.to_string().starts_with("HATCHERY_DATABASE_URL:"),
            "{err}"
        );
        let err = Config::from_sources(&env(&[("HATCHERY_SMTP_URL", "ftp://x")])).unwrap_err();
        assert!(err.to_string().starts_with("HATCHERY_SMTP_URL:"), "{err}");
        let err =
            Config::from_sources(&env(&[("HATCHERY_MAIL_FROM", "not an address")])).unwrap_err();
        assert!(err.to_string().starts_with("HATCHERY_MAIL_FROM:"), "{err}");
        let err =
            Config::from_sources(&env(&[("HATCHERY_USAGE_IMPORT_SECONDS", "1")])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("HATCHERY_USAGE_IMPORT_SECONDS:"),
            "{err}"
        );
        let err = Config::from_sources(&env(&[("HATCHERY_TIME_ZONE", "CET+1")])).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("HATCHERY_TIME_ZONE: \"CET+1\" is not a time zone"),
            "{err}"
        );
    }

    #[test]
    fn the_file_is_overridden_by_the_environment_and_secrets_stay_hidden() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hatchery.toml");
        std::fs::write(
            &path,
            "addr = \"0.0.0.0:8080\"\ndatabase_url = \"postgres://u:hunter2@db/h\"\nsession_days = 3\n",
        )
        .unwrap();
        let c = Config::from_sources(&env(&[
            ("HATCHERY_CONFIG", path.to_str().unwrap()),
            ("HATCHERY_ADDR", "127.0.0.1:9000"),
        ]))
        .unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:9000");
        assert_eq!(c.session_days, 3);
        assert!(matches!(c.database, Database::Postgres(_)));
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn unknown_file_settings_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hatchery.toml");
        std::fs::write(&path, "adress = \"x\"\n").unwrap();
        let err =
            Config::from_sources(&env(&[("HATCHERY_CONFIG", path.to_str().unwrap())])).unwrap_err();
        assert!(err.to_string().contains("adress"), "{err}");
    }
}
