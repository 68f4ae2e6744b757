//! Funding programmes (issue 17): what a sponsor (a city, a district, the park) pays of a
//! startup's compute bill, at which rates, up to which caps, for whom; the programmes one may
//! not be combined with; the startups enrolled by an admin's decision (with the reason and
//! an own cap if smaller); and the firms affiliated with a startup, which some programmes
//! forbid as its compute provider.
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
enum FundingProgrammes {
    Table,
    Id,
    NameEn,
    NameZh,
    SponsorKind,
    Sponsor,
    RateDomesticBp,
    RateOtherBp,
    YoungRateBp,
    YoungYears,
    CapCompanyYearFen,
    CapPoolFen,
    CapContractFen,
    ValidFrom,
    ValidUntil,
    RegionPrefix,
    UnaffiliatedProvider,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum ProgrammeExclusions {
    Table,
    ProgrammeId,
    ExcludedId,
}

#[derive(DeriveIden)]
enum ProgrammeEnrolments {
    Table,
    Id,
    ProgrammeId,
    StartupId,
    CapFen,
    Reason,
    DecidedBy,
    DecidedAt,
    EndedAt,
}

#[derive(DeriveIden)]
enum StartupAffiliates {
    Table,
    Id,
    StartupId,
    CreditCode,
    Name,
    CreatedAt,
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
                .table(FundingProgrammes::Table)
                .col(big_pk_auto(FundingProgrammes::Id))
                .col(string_len(FundingProgrammes::NameEn, 200))
                .col(string_len(FundingProgrammes::NameZh, 200))
                .col(string_len(FundingProgrammes::SponsorKind, 20))
                .col(string_len(FundingProgrammes::Sponsor, 200))
                .col(big_integer(FundingProgrammes::RateDomesticBp))
                .col(big_integer(FundingProgrammes::RateOtherBp))
                .col(big_integer_null(FundingProgrammes::YoungRateBp))
                .col(integer_null(FundingProgrammes::YoungYears))
                .col(big_integer_null(FundingProgrammes::CapCompanyYearFen))
                .col(big_integer_null(FundingProgrammes::CapPoolFen))
                .col(big_integer_null(FundingProgrammes::CapContractFen))
                .col(date(FundingProgrammes::ValidFrom))
                .col(date(FundingProgrammes::ValidUntil))
                .col(string_len_null(FundingProgrammes::RegionPrefix, 6))
                .col(boolean(FundingProgrammes::UnaffiliatedProvider).default(false))
                .col(big_integer_null(FundingProgrammes::CreatedBy))
                .col(timestamp_with_time_zone(FundingProgrammes::CreatedAt))
                .col(timestamp_with_time_zone(FundingProgrammes::UpdatedAt))
                .foreign_key(&mut fk(
                    (FundingProgrammes::Table, FundingProgrammes::CreatedBy),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ProgrammeExclusions::Table)
                .col(big_integer(ProgrammeExclusions::ProgrammeId))
                .col(big_integer(ProgrammeExclusions::ExcludedId))
                .primary_key(
                    Index::create()
                        .col(ProgrammeExclusions::ProgrammeId)
                        .col(ProgrammeExclusions::ExcludedId),
                )
                .foreign_key(&mut fk(
                    (ProgrammeExclusions::Table, ProgrammeExclusions::ProgrammeId),
                    (FundingProgrammes::Table, FundingProgrammes::Id),
                ))
                .foreign_key(&mut fk(
                    (ProgrammeExclusions::Table, ProgrammeExclusions::ExcludedId),
                    (FundingProgrammes::Table, FundingProgrammes::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(ProgrammeEnrolments::Table)
                .col(big_pk_auto(ProgrammeEnrolments::Id))
                .col(big_integer(ProgrammeEnrolments::ProgrammeId))
                .col(big_integer(ProgrammeEnrolments::StartupId))
                .col(big_integer_null(ProgrammeEnrolments::CapFen))
                .col(text(ProgrammeEnrolments::Reason))
                .col(big_integer_null(ProgrammeEnrolments::DecidedBy))
                .col(timestamp_with_time_zone(ProgrammeEnrolments::DecidedAt))
                .col(timestamp_with_time_zone_null(ProgrammeEnrolments::EndedAt))
                .foreign_key(&mut fk(
                    (ProgrammeEnrolments::Table, ProgrammeEnrolments::ProgrammeId),
                    (FundingProgrammes::Table, FundingProgrammes::Id),
                ))
                .foreign_key(&mut fk(
                    (ProgrammeEnrolments::Table, ProgrammeEnrolments::StartupId),
                    (Startups::Table, Startups::Id),
                ))
                .foreign_key(&mut fk(
                    (ProgrammeEnrolments::Table, ProgrammeEnrolments::DecidedBy),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // A startup is enrolled in a programme once; the startup's page reads its enrolments.
        m.create_index(
            Index::create()
                .name("ux_programme_enrolments_programme_startup")
                .table(ProgrammeEnrolments::Table)
                .col(ProgrammeEnrolments::ProgrammeId)
                .col(ProgrammeEnrolments::StartupId)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_programme_enrolments_startup")
                .table(ProgrammeEnrolments::Table)
                .col(ProgrammeEnrolments::StartupId)
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(StartupAffiliates::Table)
                .col(big_pk_auto(StartupAffiliates::Id))
                .col(big_integer(StartupAffiliates::StartupId))
                .col(string_len(StartupAffiliates::CreditCode, 18))
                .col(string_len(StartupAffiliates::Name, 200))
                .col(timestamp_with_time_zone(StartupAffiliates::CreatedAt))
                .foreign_key(&mut fk(
                    (StartupAffiliates::Table, StartupAffiliates::StartupId),
                    (Startups::Table, Startups::Id),
                ))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("ux_startup_affiliates_startup_code")
                .table(StartupAffiliates::Table)
                .col(StartupAffiliates::StartupId)
                .col(StartupAffiliates::CreditCode)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            StartupAffiliates::Table.into_iden(),
            ProgrammeEnrolments::Table.into_iden(),
            ProgrammeExclusions::Table.into_iden(),
            FundingProgrammes::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
