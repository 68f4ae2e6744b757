//! Requests counted per client for their limits: sign-ups and password-reset requests from one
//! address (sign-in attempts have their own table, `login_attempts`).
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RequestLimits {
    Table,
    Id,
    Action,
    Client,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RequestLimits::Table)
                .col(big_pk_auto(RequestLimits::Id))
                .col(string_len(RequestLimits::Action, 32))
                .col(string_len(RequestLimits::Client, 64))
                .col(timestamp_with_time_zone(RequestLimits::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_request_limits_action_client_time")
                .table(RequestLimits::Table)
                .col(RequestLimits::Action)
                .col(RequestLimits::Client)
                .col(RequestLimits::CreatedAt)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(RequestLimits::Table).to_owned())
            .await
    }
}
