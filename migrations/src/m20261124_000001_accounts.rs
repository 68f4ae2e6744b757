//! Accounts, sessions, one-time tokens, the email outbox, the audit log and intake rounds.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
    Email,
    Name,
    PasswordHash,
    Locale,
    EmailVerifiedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum UserRoles {
    Table,
    UserId,
    Role,
    GrantedAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    Id,
    TokenHash,
    Purpose,
    Email,
    UserId,
    Role,
    CreatedBy,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum LoginAttempts {
    Table,
    Id,
    Email,
    Ip,
    Succeeded,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EmailOutbox {
    Table,
    Id,
    ToAddress,
    ToName,
    Locale,
    Kind,
    Subject,
    BodyText,
    Status,
    Attempts,
    NextAttemptAt,
    LockedUntil,
    LastError,
    DeliveryRef,
    SentAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    ActorUserId,
    Action,
    EntityType,
    EntityId,
    Before,
    After,
    CreatedAt,
}

#[derive(DeriveIden)]
enum IntakeRounds {
    Table,
    Id,
    TitleEn,
    TitleZh,
    DescriptionEn,
    DescriptionZh,
    OpensAt,
    ClosesAt,
    ReviewDeadline,
    MentorsPerApplication,
    BlindReview,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Users::Table)
                .col(big_pk_auto(Users::Id))
                .col(string_uniq(Users::Email))
                .col(string(Users::Name))
                .col(string(Users::PasswordHash))
                .col(string_len(Users::Locale, 16).default("en"))
                .col(timestamp_with_time_zone_null(Users::EmailVerifiedAt))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(UserRoles::Table)
                .col(big_integer(UserRoles::UserId))
                .col(string_len(UserRoles::Role, 16))
                .col(timestamp_with_time_zone(UserRoles::GrantedAt))
                .primary_key(Index::create().col(UserRoles::UserId).col(UserRoles::Role))
                .foreign_key(
                    ForeignKey::create()
                        .from(UserRoles::Table, UserRoles::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Sessions::Table)
                .col(string_len(Sessions::Id, 64).primary_key())
                .col(big_integer(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .col(timestamp_with_time_zone(Sessions::LastSeenAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Sessions::Table, Sessions::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sessions_user")
                .table(Sessions::Table)
                .col(Sessions::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EmailTokens::Table)
                .col(big_pk_auto(EmailTokens::Id))
                .col(string_len_uniq(EmailTokens::TokenHash, 64))
                .col(string_len(EmailTokens::Purpose, 16))
                .col(string(EmailTokens::Email))
                .col(big_integer_null(EmailTokens::UserId))
                .col(string_len_null(EmailTokens::Role, 16))
                .col(big_integer_null(EmailTokens::CreatedBy))
                .col(timestamp_with_time_zone(EmailTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(EmailTokens::UsedAt))
                .col(timestamp_with_time_zone(EmailTokens::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_email_tokens_email_purpose")
                .table(EmailTokens::Table)
                .col(EmailTokens::Email)
                .col(EmailTokens::Purpose)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(LoginAttempts::Table)
                .col(big_pk_auto(LoginAttempts::Id))
                .col(string(LoginAttempts::Email))
                .col(string_len(LoginAttempts::Ip, 64))
                .col(boolean(LoginAttempts::Succeeded))
                .col(timestamp_with_time_zone(LoginAttempts::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_login_attempts_email_time")
                .table(LoginAttempts::Table)
                .col(LoginAttempts::Email)
                .col(LoginAttempts::CreatedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_login_attempts_ip_time")
                .table(LoginAttempts::Table)
                .col(LoginAttempts::Ip)
                .col(LoginAttempts::CreatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(EmailOutbox::Table)
                .col(big_pk_auto(EmailOutbox::Id))
                .col(string(EmailOutbox::ToAddress))
                .col(string(EmailOutbox::ToName))
                .col(string_len(EmailOutbox::Locale, 16))
                .col(string_len(EmailOutbox::Kind, 32))
                .col(string(EmailOutbox::Subject))
                .col(text(EmailOutbox::BodyText))
                .col(string_len(EmailOutbox::Status, 16))
                .col(integer(EmailOutbox::Attempts).default(0))
                .col(timestamp_with_time_zone(EmailOutbox::NextAttemptAt))
                .col(timestamp_with_time_zone_null(EmailOutbox::LockedUntil))
                .col(text_null(EmailOutbox::LastError))
                .col(string_null(EmailOutbox::DeliveryRef))
                .col(timestamp_with_time_zone_null(EmailOutbox::SentAt))
                .col(timestamp_with_time_zone(EmailOutbox::CreatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_email_outbox_due")
                .table(EmailOutbox::Table)
                .col(EmailOutbox::Status)
                .col(EmailOutbox::NextAttemptAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(AuditLog::Table)
                .col(big_pk_auto(AuditLog::Id))
                .col(big_integer_null(AuditLog::ActorUserId))
                .col(string_len(AuditLog::Action, 64))
                .col(string_len(AuditLog::EntityType, 32))
                .col(string_len(AuditLog::EntityId, 64))
                .col(text_null(AuditLog::Before))
                .col(text_null(AuditLog::After))
                .col(timestamp_with_time_zone(AuditLog::CreatedAt))
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_audit_entity", AuditLog::EntityType),
            ("idx_audit_actor", AuditLog::ActorUserId),
            ("idx_audit_time", AuditLog::CreatedAt),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(AuditLog::Table).col(col);
            if name == "idx_audit_entity" {
                idx.col(AuditLog::EntityId);
            }
            m.create_index(idx.to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(IntakeRounds::Table)
                .col(big_pk_auto(IntakeRounds::Id))
                .col(string(IntakeRounds::TitleEn))
                .col(string(IntakeRounds::TitleZh))
                .col(text(IntakeRounds::DescriptionEn))
                .col(text(IntakeRounds::DescriptionZh))
                .col(timestamp_with_time_zone(IntakeRounds::OpensAt))
                .col(timestamp_with_time_zone(IntakeRounds::ClosesAt))
                .col(timestamp_with_time_zone_null(IntakeRounds::ReviewDeadline))
                .col(integer(IntakeRounds::MentorsPerApplication).default(2))
                .col(boolean(IntakeRounds::BlindReview).default(false))
                .col(big_integer_null(IntakeRounds::CreatedBy))
                .col(timestamp_with_time_zone(IntakeRounds::CreatedAt))
                .col(timestamp_with_time_zone(IntakeRounds::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_intake_rounds_window")
                .table(IntakeRounds::Table)
                .col(IntakeRounds::ClosesAt)
                .col(IntakeRounds::OpensAt)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            IntakeRounds::Table.into_iden(),
            AuditLog::Table.into_iden(),
            EmailOutbox::Table.into_iden(),
            LoginAttempts::Table.into_iden(),
            EmailTokens::Table.into_iden(),
            Sessions::Table.into_iden(),
            UserRoles::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
