//! Data changes across replicas. Each process keeps a data version (`SqlStats::changes`) that
//! its own writes move; on PostgreSQL, several replicas may serve the same database, so each
//! one also announces its committed changes with `NOTIFY` and moves its version when another
//! announces theirs. A page one replica keeps (see `page_cache`) is then not served after a
//! change made through another, beyond the moment the notification takes to arrive.
use app::state::AppState;
use sea_orm::sqlx::postgres::PgListener;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The notification channel; its payload is empty.
pub const CHANNEL: &str = "hatchery_changes";

/// Tells the other replicas that this one has committed a change (PostgreSQL only; on SQLite
/// the database belongs to one process). A failure is logged: the others' kept pages then
/// expire on their own.
pub async fn announce(db: &DatabaseConnection) {
    if db.get_database_backend() != DatabaseBackend::Postgres {
        return;
    }
    if let Err(e) = db.execute_unprepared(&format!("NOTIFY {CHANNEL}")).await {
        tracing::warn!(error = %e, "could not announce a change to the other replicas");
    }
}

/// Listens for the other replicas' changes until `shutdown`; nothing on SQLite. While the
/// listening connection is down, notifications may be missed, so a reconnection counts as a
/// change too.
pub fn listen(state: AppState, mut shutdown: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
    if state.db.get_database_backend() != DatabaseBackend::Postgres {
        return None;
    }
    Some(tokio::spawn(async move {
        // `hear` returns Ok only at shutdown; after a failure, try again a second later.
        while let Err(e) = hear(&state, &mut shutdown).await {
            tracing::warn!(error = %e, "not hearing other replicas' changes; retrying");
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.changed() => return,
            }
        }
    }))
}

/// Subscribes, then moves the data version on every announcement until `shutdown`.
async fn hear(
    state: &AppState,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<(), sea_orm::sqlx::Error> {
    let mut listener = PgListener::connect_with(state.db.get_postgres_connection_pool()).await?;
    listener.listen(CHANNEL).await?;
    loop {
        // Subscribing, an announcement, and a lost connection (`Ok(None)`: what was announced
        // meanwhile is unknown) all count as a change.
        state.sql.note_change();
        tokio::select! {
            received = listener.try_recv() => { received?; }
            _ = shutdown.changed() => return Ok(()),
        }
    }
}
