//! Team invitations (an email token may invite its holder onto a startup's team) and the
//! affiliations mentors declare, against which automatic assignment checks for conflicts.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum EmailTokens {
    Table,
    StartupId,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MentorProfiles {
    Table,
    UserId,
    Affiliations,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(EmailTokens::Table)
                .add_column(big_integer_null(EmailTokens::StartupId))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(MentorProfiles::Table)
                .col(big_integer(MentorProfiles::UserId).primary_key())
                .col(text(MentorProfiles::Affiliations))
                .col(timestamp_with_time_zone(MentorProfiles::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(MentorProfiles::Table, MentorProfiles::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(MentorProfiles::Table).to_owned())
            .await?;
        m.alter_table(
            Table::alter()
                .table(EmailTokens::Table)
                .drop_column(EmailTokens::StartupId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
