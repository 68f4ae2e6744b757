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
}

/// The shared state inside a server function (provided by the router's context).
pub fn app_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        crate::error::AppError::Internal
    })
}
