//! Group-robot channels (WeCom, DingTalk, Feishu) that park-wide events are posted to, and
//! their outbox: one delivery per channel and event, written with the change that causes it.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ChatChannels {
    Table,
    Id,
    Name,
    Platform,
    WebhookUrl,
    Secret,
    Events,
    Locale,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ChatDeliveries {
    Table,
    Id,
    ChannelId,
    Event,
    Title,
    Body,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    ErrorKind,
    LastError,
    SentAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ChatChannels::Table)
                .col(big_pk_auto(ChatChannels::Id))
                .col(string_len(ChatChannels::Name, 100))
                .col(string_len(ChatChannels::Platform, 16))
                .col(text(ChatChannels::WebhookUrl))
                .col(text(ChatChannels::Secret))
                .col(text(ChatChannels::Events))
                .col(string_len(ChatChannels::Locale, 8))
                .col(timestamp_with_time_zone(ChatChannels::CreatedAt))
                .col(timestamp_with_time_zone(ChatChannels::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ChatDeliveries::Table)
                .col(big_pk_auto(ChatDeliveries::Id))
                .col(big_integer(ChatDeliveries::ChannelId))
                .col(string_len(ChatDeliveries::Event, 32))
                .col(text(ChatDeliveries::Title))
                .col(text(ChatDeliveries::Body))
                .col(string_len(ChatDeliveries::Status, 16))
                .col(integer(ChatDeliveries::Attempts))
                .col(timestamp_with_time_zone(ChatDeliveries::NextAttemptAt))
                .col(timestamp_with_time_zone_null(ChatDeliveries::LockedUntil))
                .col(string_len_null(ChatDeliveries::ErrorKind, 32))
                .col(text_null(ChatDeliveries::LastError))
                .col(timestamp_with_time_zone_null(ChatDeliveries::SentAt))
                .col(timestamp_with_time_zone(ChatDeliveries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ChatDeliveries::Table, ChatDeliveries::ChannelId)
                        .to(ChatChannels::Table, ChatChannels::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // The worker's claim, and each channel's recent deliveries.
        m.create_index(
            Index::create()
                .name("idx_chat_deliveries_due")
                .table(ChatDeliveries::Table)
                .col(ChatDeliveries::Status)
                .col(ChatDeliveries::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_chat_deliveries_channel")
                .table(ChatDeliveries::Table)
                .col(ChatDeliveries::ChannelId)
                .col(ChatDeliveries::Id)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ChatDeliveries::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ChatChannels::Table).to_owned())
            .await
    }
}
