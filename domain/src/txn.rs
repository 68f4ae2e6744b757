//! Write transactions that wait their turn on SQLite instead of failing.
//!
//! SQLite has one writer at a time. A transaction begun the default way (`DEFERRED`) reads
//! first and asks for the write lock only at its first write; if another connection committed
//! in between, its snapshot is stale and SQLite answers `database is locked` at once, without
//! waiting (the busy timeout does not apply to that upgrade). Beginning `IMMEDIATE` takes the
//! write lock at `BEGIN`, where the busy timeout does apply: concurrent writers queue.
//! PostgreSQL ignores the SQLite mode and begins as usual.
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

/// Begins a transaction that will write. Every state change goes through this.
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Begins a transaction that only reads: a page's several statements see one snapshot and run
/// on one connection. Each statement on the pool takes a connection and gives it back, and
/// giving it back costs a round trip of its own (the pool tests it), so a page of twenty
/// statements does half the round trips this way. On SQLite it begins `DEFERRED` and never
/// takes the write lock; on PostgreSQL it is `READ ONLY`.
pub async fn read(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    // SQLite has no such mode (sea-orm would warn on every page).
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    db.begin_with_options(TransactionOptions {
        access_mode: postgres.then_some(sea_orm::AccessMode::ReadOnly),
        ..Default::default()
    })
    .await
}

/// Holds a lock named `key` until the transaction ends, so transactions that check and then
/// write under the same key run one after another. On SQLite a write transaction already holds
/// the database's one write lock; on PostgreSQL this takes an advisory lock.
pub async fn lock<C: ConnectionTrait>(txn: &C, key: &str) -> Result<(), DbErr> {
    use sha2::Digest;
    if txn.get_database_backend() != DbBackend::Postgres {
        return Ok(());
    }
    let digest = sha2::Sha256::digest(key.as_bytes());
    let mut id = [0u8; 8];
    id.copy_from_slice(&digest[..8]);
    txn.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock($1)",
        [i64::from_be_bytes(id).into()],
    ))
    .await?;
    Ok(())
}
