//! Opening the database (embedded SQLite or PostgreSQL) and bringing its schema up to date.
use crate::config::Database;
use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::{self, pool::PoolOptions, Sqlite};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbErr};
use std::ffi::c_int;
use std::ptr::NonNull;
use std::time::Duration;

/// How long a statement waits for SQLite's write lock; shorter than a request's time limit.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(20);

pub async fn connect(database: &Database) -> Result<DatabaseConnection, DbErr> {
    let url = match database {
        Database::Sqlite(path) => {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)
                    .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", dir.display())))?;
            }
            format!("sqlite://{}?mode=rwc", path.display())
        }
        Database::Postgres(url) => url.expose().to_string(),
    };
    let mut options = ConnectOptions::new(url);
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10));
    if matches!(database, Database::Sqlite(_)) {
        options
            .max_connections(8)
            .min_connections(1)
            // Writers queue for SQLite's one write lock (write transactions begin IMMEDIATE,
            // see `domain::txn`); this is how long one waits before giving up.
            // A list's page is 51 rows: with sqlx's default of 50 buffered rows, the
            // connection's thread would stop at the last one and wait to be woken again.
            .map_sqlx_sqlite_opts(|o| o.busy_timeout(SQLITE_BUSY_TIMEOUT).row_buffer_size(256))
            .map_sqlx_sqlite_pool_opts(stable_plans);
    } else {
        options.max_connections(20).min_connections(1);
    }
    let db = sea_orm::Database::connect(options).await?;
    if matches!(database, Database::Sqlite(_)) {
        // WAL lets readers proceed while the single writer commits.
        db.execute_unprepared("PRAGMA journal_mode=WAL").await?;
    }
    Ok(db)
}

/// Turns on SQLite's query planner stability guarantee on every new connection.
///
/// Without it SQLite plans a statement again on every run when the plan could depend on a
/// bound value, which every `LIMIT ?` does since 3.47: the statement cache then saved
/// nothing, and parsing the same SQL again took about 5 % of a list page's CPU. With it a
/// prepared statement keeps its plan whatever its values.
fn stable_plans(options: PoolOptions<Sqlite>) -> PoolOptions<Sqlite> {
    options.after_connect(|conn, _| {
        Box::pin(async move {
            let mut handle = conn.lock_handle().await?;
            query_planner_stability(handle.as_raw_handle(), 1)?;
            Ok(())
        })
    })
}

/// Sets (1), clears (0) or only reads (-1) a connection's query planner stability guarantee;
/// returns whether it is now on.
pub fn query_planner_stability(
    db: NonNull<libsqlite3_sys::sqlite3>,
    set: c_int,
) -> Result<bool, sqlx::Error> {
    let mut now: c_int = -1;
    // SAFETY: `db` is an open connection that the caller holds locked for the whole call.
    // SQLITE_DBCONFIG_ENABLE_QPSG takes exactly an int (the setting) and an int pointer that
    // receives the setting in force; `now` outlives the call.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            db.as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            set,
            &mut now as *mut c_int,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sqlx::Error::Configuration(
            format!("SQLite refused the query planner stability setting (code {rc})").into(),
        ));
    }
    Ok(now == 1)
}

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sqlite_connections_keep_their_query_plans() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db = connect(&Database::Sqlite(dir.path().join("hatchery.db")))
            .await
            .expect("the database opens");
        let pool = db.get_sqlite_connection_pool();
        // More than one connection: every new one must have it, not only the first.
        let mut first = pool.acquire().await.expect("a connection");
        let mut second = pool.acquire().await.expect("a second connection");
        for conn in [&mut first, &mut second] {
            let mut handle = conn.lock_handle().await.expect("the handle");
            assert!(
                query_planner_stability(handle.as_raw_handle(), -1).expect("readable"),
                "the query planner stability guarantee is on"
            );
        }
    }
}
