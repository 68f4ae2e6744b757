//! What every request handler and worker shares: options, the database, settings, the mailer.
use axum::extract::FromRef;
use domain::mail::Mailer;
pub use domain::state::*;
use leptos::prelude::LeptosOptions;
use sea_orm::DatabaseConnection;
use std::sync::Arc;

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

/// The shared state inside a server function (provided by the router's context).
pub fn app_state() -> Result<AppState, crate::error::AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from the server function context");
        crate::error::AppError::Internal
    })
}
