//! Claims (issue 17): what a park files with a programme's sponsor for some months: the paid
//! statements it covers, each with what the programme pays on it (a statement is claimed once
//! per programme), who filed it and when, and, once the sponsor pays, who recorded that, with
//! the sponsor's reference.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FundingProgrammes {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Statements {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Claims {
    Table,
    Id,
    ProgrammeId,
    PeriodFrom,
    PeriodUntil,
    Status,
    Statements,
    TotalFen,
    SponsorRef,
    FiledBy,
    FiledAt,
    ReimbursedBy,
    ReimbursedAt,
}

#[derive(DeriveIden)]
enum ClaimLines {
    Table,
    Id,
    ClaimId,
    ProgrammeId,
    StatementId,
    AmountFen,
}

fn fk(
    from: (impl IntoIden, impl IntoIden),
    to: (impl IntoIden, impl IntoIden),
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(to.0, to.1)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table(Claims::Table)
                .col(big_pk_auto(Claims::Id))
                .col(big_integer(Claims::ProgrammeId))
                .col(string_len(Claims::PeriodFrom, 7))
                .col(string_len(Claims::PeriodUntil, 7))
                .col(string_len(Claims::Status, 20))
                .col(big_integer(Claims::Statements))
                .col(big_integer(Claims::TotalFen))
                .col(string_len(Claims::SponsorRef, 100).default(""))
                .col(big_integer_null(Claims::FiledBy))
                .col(timestamp_with_time_zone(Claims::FiledAt))
                .col(big_integer_null(Claims::ReimbursedBy))
                .col(timestamp_with_time_zone_null(Claims::ReimbursedAt))
                .foreign_key(&mut fk(
                    (Claims::Table, Claims::ProgrammeId),
                    (FundingProgrammes::Table, FundingProgrammes::Id),
                ))
                .foreign_key(&mut fk(
                    (Claims::Table, Claims::FiledBy),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ClaimLines::Table)
                .col(big_pk_auto(ClaimLines::Id))
                .col(big_integer(ClaimLines::ClaimId))
                .col(big_integer(ClaimLines::ProgrammeId))
                .col(big_integer(ClaimLines::StatementId))
                .col(big_integer(ClaimLines::AmountFen))
                .foreign_key(&mut fk(
                    (ClaimLines::Table, ClaimLines::ClaimId),
                    (Claims::Table, Claims::Id),
                ))
                .foreign_key(&mut fk(
                    (ClaimLines::Table, ClaimLines::StatementId),
                    (Statements::Table, Statements::Id),
                ))
                .to_owned(),
        )
        .await?;
        // A statement is claimed from a programme once.
        m.create_index(
            Index::create()
                .name("ux_claim_lines_programme_statement")
                .table(ClaimLines::Table)
                .col(ClaimLines::ProgrammeId)
                .col(ClaimLines::StatementId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_claim_lines_claim")
                .table(ClaimLines::Table)
                .col(ClaimLines::ClaimId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [ClaimLines::Table.into_iden(), Claims::Table.into_iden()] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
