//! Opening the database (embedded SQLite or PostgreSQL) and bringing its schema up to date.
use crate::config::Database;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, ConnectionTrait, DatabaseConnection, DbErr};
use std::time::Duration;

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
        options.max_connections(8).min_connections(1);
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

pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}
