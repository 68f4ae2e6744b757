//! Incubation: a startup's residency window and end (graduated or exited), its assigned
//! mentors, milestones with sign-off, a notes timeline, and GPU-credit tranches that a
//! milestone's sign-off releases.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Startups {
    Table,
    Id,
    ResidencyFrom,
    ResidencyUntil,
    EndedAt,
    EndReason,
}

#[derive(DeriveIden)]
enum StartupMentors {
    Table,
    StartupId,
    UserId,
    AssignedAt,
}

#[derive(DeriveIden)]
enum Milestones {
    Table,
    Id,
    StartupId,
    Title,
    Description,
    DueOn,
    Status,
    Evidence,
    Notes,
    SignedOffBy,
    SignedOffAt,
    RemindedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StartupNotes {
    Table,
    Id,
    StartupId,
    AuthorId,
    Body,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum GrantTranches {
    Table,
    Id,
    GrantId,
    MilestoneId,
    Minutes,
    Status,
    ReleasedAt,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        for col in [
            date_null(Startups::ResidencyFrom),
            date_null(Startups::ResidencyUntil),
            timestamp_with_time_zone_null(Startups::EndedAt),
            text_null(Startups::EndReason),
        ] {
            m.alter_table(
                Table::alter()
                    .table(Startups::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(StartupMentors::Table)
                .col(big_integer(StartupMentors::StartupId))
                .col(big_integer(StartupMentors::UserId))
                .col(timestamp_with_time_zone(StartupMentors::AssignedAt))
                .primary_key(
                    Index::create()
                        .col(StartupMentors::StartupId)
                        .col(StartupMentors::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StartupMentors::Table, StartupMentors::StartupId)
                        .to(Startups::Table, Startups::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StartupMentors::Table, StartupMentors::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // A mentor's own list of startups.
        m.create_index(
            Index::create()
                .name("idx_startup_mentors_user")
                .table(StartupMentors::Table)
                .col(StartupMentors::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Milestones::Table)
                .col(big_pk_auto(Milestones::Id))
                .col(big_integer(Milestones::StartupId))
                .col(string_len(Milestones::Title, 200))
                .col(text(Milestones::Description))
                .col(date(Milestones::DueOn))
                .col(string_len(Milestones::Status, 16))
                .col(text_null(Milestones::Evidence))
                .col(text_null(Milestones::Notes))
                .col(big_integer_null(Milestones::SignedOffBy))
                .col(timestamp_with_time_zone_null(Milestones::SignedOffAt))
                .col(timestamp_with_time_zone_null(Milestones::RemindedAt))
                .col(timestamp_with_time_zone(Milestones::CreatedAt))
                .col(timestamp_with_time_zone(Milestones::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Milestones::Table, Milestones::StartupId)
                        .to(Startups::Table, Startups::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Milestones::Table, Milestones::SignedOffBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, a, b) in [
            (
                "idx_milestones_startup_due",
                Milestones::StartupId,
                Milestones::DueOn,
            ),
            (
                "idx_milestones_status_due",
                Milestones::Status,
                Milestones::DueOn,
            ),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Milestones::Table)
                    .col(a)
                    .col(b)
                    .to_owned(),
            )
            .await?;
        }

        m.create_table(
            Table::create()
                .table(StartupNotes::Table)
                .col(big_pk_auto(StartupNotes::Id))
                .col(big_integer(StartupNotes::StartupId))
                .col(big_integer(StartupNotes::AuthorId))
                .col(text(StartupNotes::Body))
                .col(timestamp_with_time_zone(StartupNotes::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(StartupNotes::Table, StartupNotes::StartupId)
                        .to(Startups::Table, Startups::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StartupNotes::Table, StartupNotes::AuthorId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_startup_notes_startup")
                .table(StartupNotes::Table)
                .col(StartupNotes::StartupId)
                .col(StartupNotes::CreatedAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(GrantTranches::Table)
                .col(big_pk_auto(GrantTranches::Id))
                .col(big_integer(GrantTranches::GrantId))
                .col(big_integer(GrantTranches::MilestoneId))
                .col(big_integer(GrantTranches::Minutes))
                .col(string_len(GrantTranches::Status, 16))
                .col(timestamp_with_time_zone_null(GrantTranches::ReleasedAt))
                .col(timestamp_with_time_zone(GrantTranches::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(GrantTranches::Table, GrantTranches::GrantId)
                        .to(Grants::Table, Grants::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(GrantTranches::Table, GrantTranches::MilestoneId)
                        .to(Milestones::Table, Milestones::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_grant_tranches_milestone", GrantTranches::MilestoneId),
            ("idx_grant_tranches_grant", GrantTranches::GrantId),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(GrantTranches::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            GrantTranches::Table.into_iden(),
            StartupNotes::Table.into_iden(),
            Milestones::Table.into_iden(),
            StartupMentors::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        for col in [
            Startups::EndReason,
            Startups::EndedAt,
            Startups::ResidencyUntil,
            Startups::ResidencyFrom,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Startups::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
