//! What each programme pays on each job of a statement (issue 17): a claim to one sponsor
//! proves its money job by job, so a job's subsidy is kept per programme, not only summed.
//! Statements prepared before this have only the sum per job; where one programme paid on the
//! statement, that sum is its share and is filled in here. (Where several paid, the split
//! per job was never kept; preparing such a draft again records it.)
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::big_integer;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum StatementLineSubsidies {
    Table,
    StatementId,
    ChargeId,
    ProgrammeId,
    AmountFen,
}

#[derive(DeriveIden)]
enum Statements {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FundingProgrammes {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(StatementLineSubsidies::Table)
                .col(big_integer(StatementLineSubsidies::StatementId))
                .col(big_integer(StatementLineSubsidies::ChargeId))
                .col(big_integer(StatementLineSubsidies::ProgrammeId))
                .col(big_integer(StatementLineSubsidies::AmountFen))
                .primary_key(
                    Index::create()
                        .col(StatementLineSubsidies::StatementId)
                        .col(StatementLineSubsidies::ChargeId)
                        .col(StatementLineSubsidies::ProgrammeId),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            StatementLineSubsidies::Table,
                            StatementLineSubsidies::StatementId,
                        )
                        .to(Statements::Table, Statements::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(
                            StatementLineSubsidies::Table,
                            StatementLineSubsidies::ProgrammeId,
                        )
                        .to(FundingProgrammes::Table, FundingProgrammes::Id),
                )
                .to_owned(),
        )
        .await?;
        m.get_connection()
            .execute_unprepared(
                "INSERT INTO statement_line_subsidies \
                   (statement_id, charge_id, programme_id, amount_fen) \
                 SELECT l.statement_id, l.charge_id, s.programme_id, l.subsidy_fen \
                 FROM statement_lines l \
                 JOIN statement_subsidies s ON s.statement_id = l.statement_id \
                 WHERE l.subsidy_fen > 0 \
                   AND (SELECT count(*) FROM statement_subsidies o \
                        WHERE o.statement_id = l.statement_id) = 1",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(
            Table::drop()
                .table(StatementLineSubsidies::Table)
                .to_owned(),
        )
        .await
    }
}
