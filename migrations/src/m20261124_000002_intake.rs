//! Intake: rubric criteria of rounds, startups and their teams, applications and their timeline.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum IntakeRounds {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum RubricCriteria {
    Table,
    Id,
    RoundId,
    Position,
    NameEn,
    NameZh,
    GuidanceEn,
    GuidanceZh,
    Weight,
}

#[derive(DeriveIden)]
enum Startups {
    Table,
    Id,
    Name,
    CreditCode,
    Sector,
    Stage,
    TeamSize,
    Website,
    Founders,
    Status,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum StartupMembers {
    Table,
    StartupId,
    UserId,
    Role,
    JoinedAt,
}

#[derive(DeriveIden)]
enum Applications {
    Table,
    Id,
    RoundId,
    StartupId,
    Status,
    Problem,
    Solution,
    ModelsData,
    GpuModel,
    GpuHours,
    Traction,
    Team,
    ProfileSnapshot,
    DecisionMessage,
    SubmittedAt,
    DecidedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ApplicationEvents {
    Table,
    Id,
    ApplicationId,
    Status,
    ActorUserId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(RubricCriteria::Table)
                .col(big_pk_auto(RubricCriteria::Id))
                .col(big_integer(RubricCriteria::RoundId))
                .col(integer(RubricCriteria::Position))
                .col(string(RubricCriteria::NameEn))
                .col(string(RubricCriteria::NameZh))
                .col(text(RubricCriteria::GuidanceEn))
                .col(text(RubricCriteria::GuidanceZh))
                .col(integer(RubricCriteria::Weight))
                .foreign_key(
                    ForeignKey::create()
                        .from(RubricCriteria::Table, RubricCriteria::RoundId)
                        .to(IntakeRounds::Table, IntakeRounds::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_rubric_round")
                .table(RubricCriteria::Table)
                .col(RubricCriteria::RoundId)
                .col(RubricCriteria::Position)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Startups::Table)
                .col(big_pk_auto(Startups::Id))
                .col(string(Startups::Name))
                .col(string_len_null(Startups::CreditCode, 18))
                .col(string_len(Startups::Sector, 32))
                .col(string_len(Startups::Stage, 32))
                .col(integer(Startups::TeamSize))
                .col(string_null(Startups::Website))
                .col(text(Startups::Founders))
                .col(string_len(Startups::Status, 16))
                .col(big_integer(Startups::CreatedBy))
                .col(timestamp_with_time_zone(Startups::CreatedAt))
                .col(timestamp_with_time_zone(Startups::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Startups::Table, Startups::CreatedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, col) in [
            ("idx_startups_status", Startups::Status),
            ("idx_startups_name", Startups::Name),
        ] {
            m.create_index(
                Index::create()
                    .name(name)
                    .table(Startups::Table)
                    .col(col)
                    .to_owned(),
            )
            .await?;
        }
        m.create_index(
            Index::create()
                .name("idx_startups_credit_code")
                .table(Startups::Table)
                .col(Startups::CreditCode)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(StartupMembers::Table)
                .col(big_integer(StartupMembers::StartupId))
                .col(big_integer(StartupMembers::UserId))
                .col(string_len(StartupMembers::Role, 16))
                .col(timestamp_with_time_zone(StartupMembers::JoinedAt))
                .primary_key(
                    Index::create()
                        .col(StartupMembers::StartupId)
                        .col(StartupMembers::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StartupMembers::Table, StartupMembers::StartupId)
                        .to(Startups::Table, Startups::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(StartupMembers::Table, StartupMembers::UserId)
                        .to(Users::Table, Users::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        // One startup per person: the team they apply with.
        m.create_index(
            Index::create()
                .name("idx_startup_members_user")
                .table(StartupMembers::Table)
                .col(StartupMembers::UserId)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Applications::Table)
                .col(big_pk_auto(Applications::Id))
                .col(big_integer(Applications::RoundId))
                .col(big_integer(Applications::StartupId))
                .col(string_len(Applications::Status, 16))
                .col(text(Applications::Problem))
                .col(text(Applications::Solution))
                .col(text(Applications::ModelsData))
                .col(string_len(Applications::GpuModel, 64))
                .col(big_integer(Applications::GpuHours))
                .col(text(Applications::Traction))
                .col(text(Applications::Team))
                .col(text_null(Applications::ProfileSnapshot))
                .col(text_null(Applications::DecisionMessage))
                .col(timestamp_with_time_zone_null(Applications::SubmittedAt))
                .col(timestamp_with_time_zone_null(Applications::DecidedAt))
                .col(timestamp_with_time_zone(Applications::CreatedAt))
                .col(timestamp_with_time_zone(Applications::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Applications::Table, Applications::RoundId)
                        .to(IntakeRounds::Table, IntakeRounds::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Applications::Table, Applications::StartupId)
                        .to(Startups::Table, Startups::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_applications_round_startup")
                .table(Applications::Table)
                .col(Applications::RoundId)
                .col(Applications::StartupId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_applications_round_status")
                .table(Applications::Table)
                .col(Applications::RoundId)
                .col(Applications::Status)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_applications_startup")
                .table(Applications::Table)
                .col(Applications::StartupId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ApplicationEvents::Table)
                .col(big_pk_auto(ApplicationEvents::Id))
                .col(big_integer(ApplicationEvents::ApplicationId))
                .col(string_len(ApplicationEvents::Status, 16))
                .col(big_integer_null(ApplicationEvents::ActorUserId))
                .col(timestamp_with_time_zone(ApplicationEvents::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ApplicationEvents::Table, ApplicationEvents::ApplicationId)
                        .to(Applications::Table, Applications::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_application_events_app")
                .table(ApplicationEvents::Table)
                .col(ApplicationEvents::ApplicationId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            ApplicationEvents::Table.into_iden(),
            Applications::Table.into_iden(),
            StartupMembers::Table.into_iden(),
            Startups::Table.into_iden(),
            RubricCriteria::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
