//! Preparing a month's statements runs in the worker (issue 17): an admin's request is a row
//! here, claimed with a lease like any outbox row, retried after a failure with a backoff, and
//! kept with what it made, so a month of 10⁴ startups is not bound to one request's time limit
//! and survives a restart half-way.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum StatementRuns {
    Table,
    Id,
    Period,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    RequestedBy,
    RequestedAt,
    FinishedAt,
    Created,
    Refreshed,
    Unchanged,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StatementRuns::Table)
                .col(big_pk_auto(StatementRuns::Id))
                .col(string_len(StatementRuns::Period, 7))
                .col(string_len(StatementRuns::Status, 20))
                .col(integer(StatementRuns::Attempts).default(0))
                .col(timestamp_with_time_zone(StatementRuns::NextAttemptAt))
                .col(timestamp_with_time_zone_null(StatementRuns::LockedUntil))
                .col(text(StatementRuns::LastError).default(""))
                .col(big_integer_null(StatementRuns::RequestedBy))
                .col(timestamp_with_time_zone(StatementRuns::RequestedAt))
                .col(timestamp_with_time_zone_null(StatementRuns::FinishedAt))
                .col(big_integer(StatementRuns::Created).default(0))
                .col(big_integer(StatementRuns::Refreshed).default(0))
                .col(big_integer(StatementRuns::Unchanged).default(0))
                .foreign_key(
                    ForeignKey::create()
                        .from(StatementRuns::Table, StatementRuns::RequestedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_statement_runs_due")
                .table(StatementRuns::Table)
                .col(StatementRuns::Status)
                .col(StatementRuns::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_statement_runs_period")
                .table(StatementRuns::Table)
                .col(StatementRuns::Period)
                .col(StatementRuns::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(StatementRuns::Table).to_owned())
            .await
    }
}
