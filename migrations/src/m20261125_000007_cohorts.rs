//! Training cohorts: their sessions, enrolments with a waitlist, attendance and certificates.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Cohorts {
    Table,
    Id,
    TitleEn,
    TitleZh,
    Track,
    DescriptionEn,
    DescriptionZh,
    Capacity,
    EnrolOpensAt,
    EnrolClosesAt,
    StartsOn,
    EndsOn,
    Location,
    CompletionPercent,
    RosterVersion,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum CohortSessions {
    Table,
    Id,
    CohortId,
    StartsAt,
    EndsAt,
    Topic,
    Instructor,
    CheckinCode,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Enrolments {
    Table,
    Id,
    CohortId,
    UserId,
    Status,
    QueuedAt,
    EnrolledAt,
    WithdrawnAt,
    CompletedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Attendance {
    Table,
    SessionId,
    UserId,
    Present,
    Source,
    MarkedBy,
    MarkedAt,
}

#[derive(DeriveIden)]
enum Certificates {
    Table,
    Id,
    Code,
    EnrolmentId,
    CohortId,
    UserId,
    HolderName,
    SessionsAttended,
    SessionsTotal,
    IssuedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Cohorts::Table)
                .col(big_pk_auto(Cohorts::Id))
                .col(string_len(Cohorts::TitleEn, 200))
                .col(string_len(Cohorts::TitleZh, 200))
                .col(string_len(Cohorts::Track, 40))
                .col(text(Cohorts::DescriptionEn))
                .col(text(Cohorts::DescriptionZh))
                .col(integer(Cohorts::Capacity))
                .col(timestamp_with_time_zone(Cohorts::EnrolOpensAt))
                .col(timestamp_with_time_zone(Cohorts::EnrolClosesAt))
                .col(date(Cohorts::StartsOn))
                .col(date(Cohorts::EndsOn))
                .col(string_len(Cohorts::Location, 300))
                .col(integer(Cohorts::CompletionPercent))
                .col(big_integer(Cohorts::RosterVersion).default(0))
                .col(big_integer_null(Cohorts::CreatedBy))
                .col(timestamp_with_time_zone(Cohorts::CreatedAt))
                .col(timestamp_with_time_zone(Cohorts::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Cohorts::Table, Cohorts::CreatedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_cohorts_starts")
                .table(Cohorts::Table)
                .col(Cohorts::StartsOn)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(CohortSessions::Table)
                .col(big_pk_auto(CohortSessions::Id))
                .col(big_integer(CohortSessions::CohortId))
                .col(timestamp_with_time_zone(CohortSessions::StartsAt))
                .col(timestamp_with_time_zone(CohortSessions::EndsAt))
                .col(string_len(CohortSessions::Topic, 200))
                .col(string_len(CohortSessions::Instructor, 120))
                .col(string_len(CohortSessions::CheckinCode, 16))
                .col(timestamp_with_time_zone(CohortSessions::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(CohortSessions::Table, CohortSessions::CohortId)
                        .to(Cohorts::Table, Cohorts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_cohort_sessions_cohort")
                .table(CohortSessions::Table)
                .col(CohortSessions::CohortId)
                .col(CohortSessions::StartsAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_cohort_sessions_starts")
                .table(CohortSessions::Table)
                .col(CohortSessions::StartsAt)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Enrolments::Table)
                .col(big_pk_auto(Enrolments::Id))
                .col(big_integer(Enrolments::CohortId))
                .col(big_integer(Enrolments::UserId))
                .col(string_len(Enrolments::Status, 16))
                .col(timestamp_with_time_zone(Enrolments::QueuedAt))
                .col(timestamp_with_time_zone_null(Enrolments::EnrolledAt))
                .col(timestamp_with_time_zone_null(Enrolments::WithdrawnAt))
                .col(timestamp_with_time_zone_null(Enrolments::CompletedAt))
                .col(timestamp_with_time_zone(Enrolments::CreatedAt))
                .col(timestamp_with_time_zone(Enrolments::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Enrolments::Table, Enrolments::CohortId)
                        .to(Cohorts::Table, Cohorts::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Enrolments::Table, Enrolments::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_enrolments_cohort_user")
                .table(Enrolments::Table)
                .col(Enrolments::CohortId)
                .col(Enrolments::UserId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_enrolments_queue")
                .table(Enrolments::Table)
                .col(Enrolments::CohortId)
                .col(Enrolments::Status)
                .col(Enrolments::QueuedAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_enrolments_user")
                .table(Enrolments::Table)
                .col(Enrolments::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Attendance::Table)
                .col(big_integer(Attendance::SessionId))
                .col(big_integer(Attendance::UserId))
                .col(boolean(Attendance::Present))
                .col(string_len(Attendance::Source, 16))
                .col(big_integer_null(Attendance::MarkedBy))
                .col(timestamp_with_time_zone(Attendance::MarkedAt))
                .primary_key(
                    Index::create()
                        .col(Attendance::SessionId)
                        .col(Attendance::UserId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Attendance::Table, Attendance::SessionId)
                        .to(CohortSessions::Table, CohortSessions::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Attendance::Table, Attendance::UserId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_attendance_user")
                .table(Attendance::Table)
                .col(Attendance::UserId)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Certificates::Table)
                .col(big_pk_auto(Certificates::Id))
                .col(string_len_uniq(Certificates::Code, 32))
                .col(big_integer_uniq(Certificates::EnrolmentId))
                .col(big_integer(Certificates::CohortId))
                .col(big_integer(Certificates::UserId))
                .col(string_len(Certificates::HolderName, 200))
                .col(integer(Certificates::SessionsAttended))
                .col(integer(Certificates::SessionsTotal))
                .col(timestamp_with_time_zone(Certificates::IssuedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Certificates::Table, Certificates::EnrolmentId)
                        .to(Enrolments::Table, Enrolments::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_certificates_user")
                .table(Certificates::Table)
                .col(Certificates::UserId)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            Certificates::Table.into_iden(),
            Attendance::Table.into_iden(),
            Enrolments::Table.into_iden(),
            CohortSessions::Table.into_iden(),
            Cohorts::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
