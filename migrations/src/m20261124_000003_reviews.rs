//! Reviews: which mentor reviews which application, their scores per rubric criterion.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Applications {
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
}

#[derive(DeriveIden)]
enum ReviewAssignments {
    Table,
    Id,
    ApplicationId,
    MentorId,
    Status,
    Recommendation,
    FeedbackApplicant,
    NotesCommittee,
    ConflictReason,
    AssignedBy,
    SubmittedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ReviewScores {
    Table,
    AssignmentId,
    CriterionId,
    Score,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(ReviewAssignments::Table)
                .col(big_pk_auto(ReviewAssignments::Id))
                .col(big_integer(ReviewAssignments::ApplicationId))
                .col(big_integer(ReviewAssignments::MentorId))
                .col(string_len(ReviewAssignments::Status, 16))
                .col(string_len_null(ReviewAssignments::Recommendation, 16))
                .col(text(ReviewAssignments::FeedbackApplicant))
                .col(text(ReviewAssignments::NotesCommittee))
                .col(text_null(ReviewAssignments::ConflictReason))
                .col(big_integer_null(ReviewAssignments::AssignedBy))
                .col(timestamp_with_time_zone_null(
                    ReviewAssignments::SubmittedAt,
                ))
                .col(timestamp_with_time_zone(ReviewAssignments::CreatedAt))
                .col(timestamp_with_time_zone(ReviewAssignments::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewAssignments::Table, ReviewAssignments::ApplicationId)
                        .to(Applications::Table, Applications::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewAssignments::Table, ReviewAssignments::MentorId)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_review_assignments_app_mentor")
                .table(ReviewAssignments::Table)
                .col(ReviewAssignments::ApplicationId)
                .col(ReviewAssignments::MentorId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_review_assignments_mentor_status")
                .table(ReviewAssignments::Table)
                .col(ReviewAssignments::MentorId)
                .col(ReviewAssignments::Status)
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ReviewScores::Table)
                .col(big_integer(ReviewScores::AssignmentId))
                .col(big_integer(ReviewScores::CriterionId))
                .col(integer(ReviewScores::Score))
                .primary_key(
                    Index::create()
                        .col(ReviewScores::AssignmentId)
                        .col(ReviewScores::CriterionId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewScores::Table, ReviewScores::AssignmentId)
                        .to(ReviewAssignments::Table, ReviewAssignments::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ReviewScores::Table, ReviewScores::CriterionId)
                        .to(RubricCriteria::Table, RubricCriteria::Id)
                        .on_delete(ForeignKeyAction::Cascade),
                )
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ReviewScores::Table).to_owned())
            .await?;
        m.drop_table(Table::drop().table(ReviewAssignments::Table).to_owned())
            .await?;
        Ok(())
    }
}
