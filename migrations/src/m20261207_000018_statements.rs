//! Charges and statements (issue 17): each imported job priced at the price in force on the
//! day it ended, and each month's bill per startup and provider, split into the park's
//! credit, each programme's subsidy and the startup's own payment, with its lines, its state
//! (draft → issued → paid → claimed → reimbursed), who moved it and the evidence it carries.
//! An issued statement never changes: a correction is a later revision of the same month.
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
}

#[derive(DeriveIden)]
enum ComputeResources {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum FundingProgrammes {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Charges {
    Table,
    Id,
    StartupId,
    ResourceId,
    Provider,
    JobRef,
    GpuMinutes,
    CoveredMinutes,
    FenPerGpuHour,
    AmountFen,
    Domestic,
    EndedAt,
    EndedOn,
    Period,
}

#[derive(DeriveIden)]
enum Statements {
    Table,
    Id,
    StartupId,
    Provider,
    Period,
    Revision,
    CorrectsId,
    Status,
    Jobs,
    GpuMinutes,
    AmountFen,
    ParkFen,
    SubsidyFen,
    OwnFen,
    ContractNo,
    ContractDate,
    InvoiceNo,
    PaymentRef,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
    IssuedBy,
    IssuedAt,
    PaidBy,
    PaidAt,
    ClaimedBy,
    ClaimedAt,
    ReimbursedBy,
    ReimbursedAt,
}

#[derive(DeriveIden)]
enum StatementLines {
    Table,
    Id,
    StatementId,
    ChargeId,
    ParkFen,
    SubsidyFen,
    OwnFen,
}

#[derive(DeriveIden)]
enum StatementSubsidies {
    Table,
    StatementId,
    ProgrammeId,
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
                .table(Charges::Table)
                .col(big_pk_auto(Charges::Id))
                .col(big_integer(Charges::StartupId))
                .col(big_integer(Charges::ResourceId))
                .col(string_len(Charges::Provider, 200))
                .col(string_len(Charges::JobRef, 200))
                .col(big_integer(Charges::GpuMinutes))
                .col(big_integer(Charges::CoveredMinutes))
                .col(big_integer_null(Charges::FenPerGpuHour))
                .col(big_integer(Charges::AmountFen))
                .col(boolean(Charges::Domestic))
                .col(timestamp_with_time_zone(Charges::EndedAt))
                .col(date(Charges::EndedOn))
                .col(string_len(Charges::Period, 7))
                .foreign_key(&mut fk(
                    (Charges::Table, Charges::StartupId),
                    (Startups::Table, Startups::Id),
                ))
                .foreign_key(&mut fk(
                    (Charges::Table, Charges::ResourceId),
                    (ComputeResources::Table, ComputeResources::Id),
                ))
                .to_owned(),
        )
        .await?;
        // One charge per job and resource, as the ledger has one consumption per job.
        m.create_index(
            Index::create()
                .name("ux_charges_resource_job")
                .table(Charges::Table)
                .col(Charges::ResourceId)
                .col(Charges::JobRef)
                .unique()
                .to_owned(),
        )
        .await?;
        // A statement reads a startup's charges of one month.
        m.create_index(
            Index::create()
                .name("idx_charges_startup_period")
                .table(Charges::Table)
                .col(Charges::StartupId)
                .col(Charges::Period)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_charges_period")
                .table(Charges::Table)
                .col(Charges::Period)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Statements::Table)
                .col(big_pk_auto(Statements::Id))
                .col(big_integer(Statements::StartupId))
                .col(string_len(Statements::Provider, 200))
                .col(string_len(Statements::Period, 7))
                .col(integer(Statements::Revision).default(0))
                .col(big_integer_null(Statements::CorrectsId))
                .col(string_len(Statements::Status, 20))
                .col(big_integer(Statements::Jobs))
                .col(big_integer(Statements::GpuMinutes))
                .col(big_integer(Statements::AmountFen))
                .col(big_integer(Statements::ParkFen))
                .col(big_integer(Statements::SubsidyFen))
                .col(big_integer(Statements::OwnFen))
                .col(string_len(Statements::ContractNo, 100).default(""))
                .col(date_null(Statements::ContractDate))
                .col(string_len(Statements::InvoiceNo, 100).default(""))
                .col(string_len(Statements::PaymentRef, 100).default(""))
                .col(big_integer_null(Statements::CreatedBy))
                .col(timestamp_with_time_zone(Statements::CreatedAt))
                .col(timestamp_with_time_zone(Statements::UpdatedAt))
                .col(big_integer_null(Statements::IssuedBy))
                .col(timestamp_with_time_zone_null(Statements::IssuedAt))
                .col(big_integer_null(Statements::PaidBy))
                .col(timestamp_with_time_zone_null(Statements::PaidAt))
                .col(big_integer_null(Statements::ClaimedBy))
                .col(timestamp_with_time_zone_null(Statements::ClaimedAt))
                .col(big_integer_null(Statements::ReimbursedBy))
                .col(timestamp_with_time_zone_null(Statements::ReimbursedAt))
                .foreign_key(&mut fk(
                    (Statements::Table, Statements::StartupId),
                    (Startups::Table, Startups::Id),
                ))
                .foreign_key(&mut fk(
                    (Statements::Table, Statements::CorrectsId),
                    (Statements::Table, Statements::Id),
                ))
                .foreign_key(&mut fk(
                    (Statements::Table, Statements::CreatedBy),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // One statement per startup, provider and month, and each correction a revision of it.
        m.create_index(
            Index::create()
                .name("ux_statements_month_revision")
                .table(Statements::Table)
                .col(Statements::StartupId)
                .col(Statements::Provider)
                .col(Statements::Period)
                .col(Statements::Revision)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_statements_period")
                .table(Statements::Table)
                .col(Statements::Period)
                .col(Statements::Id)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(StatementLines::Table)
                .col(big_pk_auto(StatementLines::Id))
                .col(big_integer(StatementLines::StatementId))
                .col(big_integer(StatementLines::ChargeId))
                .col(big_integer(StatementLines::ParkFen))
                .col(big_integer(StatementLines::SubsidyFen))
                .col(big_integer(StatementLines::OwnFen))
                .foreign_key(&mut fk(
                    (StatementLines::Table, StatementLines::StatementId),
                    (Statements::Table, Statements::Id),
                ))
                .foreign_key(&mut fk(
                    (StatementLines::Table, StatementLines::ChargeId),
                    (Charges::Table, Charges::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_statement_lines_statement")
                .table(StatementLines::Table)
                .col(StatementLines::StatementId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(StatementSubsidies::Table)
                .col(big_integer(StatementSubsidies::StatementId))
                .col(big_integer(StatementSubsidies::ProgrammeId))
                .col(big_integer(StatementSubsidies::AmountFen))
                .primary_key(
                    Index::create()
                        .col(StatementSubsidies::StatementId)
                        .col(StatementSubsidies::ProgrammeId),
                )
                .foreign_key(&mut fk(
                    (StatementSubsidies::Table, StatementSubsidies::StatementId),
                    (Statements::Table, Statements::Id),
                ))
                .foreign_key(&mut fk(
                    (StatementSubsidies::Table, StatementSubsidies::ProgrammeId),
                    (FundingProgrammes::Table, FundingProgrammes::Id),
                ))
                .to_owned(),
        )
        .await?;
        // What a programme has paid (its pool, a company's year) is summed from here.
        m.create_index(
            Index::create()
                .name("idx_statement_subsidies_programme")
                .table(StatementSubsidies::Table)
                .col(StatementSubsidies::ProgrammeId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StatementSubsidies::Table.into_iden(),
            StatementLines::Table.into_iden(),
            Statements::Table.into_iden(),
            Charges::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
