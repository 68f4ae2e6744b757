//! Write transactions that wait their turn on SQLite instead of failing.
//!
//! SQLite has one writer at a time. A transaction begun the default way (`DEFERRED`) reads
//! first and asks for the write lock only at its first write; if another connection committed
//! in between, its snapshot is stale and SQLite answers `database is locked` at once, without
//! waiting (the busy timeout does not apply to that upgrade). Beginning `IMMEDIATE` takes the
//! write lock at `BEGIN`, where the busy timeout does apply: concurrent writers queue.
//! PostgreSQL ignores the SQLite mode and begins as usual.
use sea_orm::{DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait};

/// Begins a transaction that will write. Every state change goes through this.
pub async fn begin<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}
