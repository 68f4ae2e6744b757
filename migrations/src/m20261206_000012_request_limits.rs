//! Requests counted per client for their limits: sign-ups and password-reset requests from one
//! address (sign-in attempts have their own table, `login_attempts`). And the one-time token of
//! an email's link, kept beside the message only until it is delivered, so the outbox that
//! admins read never holds a live link.
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

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Secret,
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
        .await?;
        m.alter_table(
            Table::alter()
                .table(EmailOutbox::Table)
                .add_column(text_null(EmailOutbox::Secret))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(EmailOutbox::Table)
                .drop_column(EmailOutbox::Secret)
                .to_owned(),
        )
        .await?;
        m.drop_table(Table::drop().table(RequestLimits::Table).to_owned())
            .await
    }
}
