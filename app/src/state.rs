//! What every request handler and worker shares: options, the database, settings, the mailer.
use crate::mail::Mailer;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::path::PathBuf;
use std::sync::Arc;

/// The settings the application layer needs; loaded and validated by the server binary.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the embedded database, outgoing .eml files and other state live.
    pub data_dir: PathBuf,
    /// The address people reach Hatchery at; used in links inside emails.
    pub public_url: String,
    /// The `From:` of every email.
    pub mail_from: String,
    /// Whether session cookies carry `Secure` (on when the public URL is https).
    pub secure_cookies: bool,
    /// How long a session lasts without activity.
    pub session_days: i64,
}

impl Settings {
    /// Defaults for a data directory; used by tests and as the base of the layered config.
    pub fn for_data_dir(data_dir: PathBuf) -> Self {
        Settings {
            data_dir,
            public_url: "http://127.0.0.1:3000".into(),
            mail_from: "Hatchery <noreply@hatchery.localhost>".into(),
            secure_cookies: false,
            session_days: 14,
        }
    }

    pub fn link(&self, path_and_query: &str) -> String {
        format!(
            "{}{}",
            self.public_url.trim_end_matches('/'),
            path_and_query
        )
    }
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub db: DatabaseConnection,
    pub settings: Arc<Settings>,
    pub mailer: Mailer,
    /// Statements run on `db`, for `/metrics` and the query budget of each page.
    pub sql: Arc<SqlStats>,
    /// The admin dashboard's park overview, shared by every admin for a minute.
    pub overview: Arc<Cached<crate::admin::ParkOverview>>,
}

/// A value computed at most once per `max_age`; callers arriving while it is being computed
/// wait for that computation instead of starting their own.
pub struct Cached<T> {
    slot: tokio::sync::Mutex<Option<(std::time::Instant, T)>>,
}

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached {
            slot: tokio::sync::Mutex::new(None),
        }
    }
}

impl<T: Clone> Cached<T> {
    pub async fn get_or_refresh<F, Fut, E>(
        &self,
        max_age: std::time::Duration,
        compute: F,
    ) -> Result<T, E>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let mut slot = self.slot.lock().await;
        if let Some((at, value)) = slot.as_ref() {
            if at.elapsed() < max_age {
                return Ok(value.clone());
            }
        }
        let value = compute().await?;
        *slot = Some((std::time::Instant::now(), value.clone()));
        Ok(value)
    }

    /// Forgets the value, so the next reader computes it afresh.
    pub async fn clear(&self) {
        *self.slot.lock().await = None;
    }
}

/// Counts of the SQL statements the process has run (through sea-orm's metric callback).
#[derive(Debug, Default)]
pub struct SqlStats {
    pub statements: std::sync::atomic::AtomicU64,
    pub failures: std::sync::atomic::AtomicU64,
    /// Time spent in statements, in microseconds.
    pub micros: std::sync::atomic::AtomicU64,
}

impl SqlStats {
    pub fn record(&self, elapsed: std::time::Duration, failed: bool) {
        use std::sync::atomic::Ordering::Relaxed;
        self.statements.fetch_add(1, Relaxed);
        self.micros
            .fetch_add(elapsed.as_micros().min(u64::MAX as u128) as u64, Relaxed);
        if failed {
            self.failures.fetch_add(1, Relaxed);
        }
    }

    pub fn statements(&self) -> u64 {
        self.statements.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// The shared state inside a server function (provided by the router's context).
pub fn app_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        crate::error::AppError::Internal
    })
}
