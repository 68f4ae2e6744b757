//! The figures a sponsor's annual report asks of each firm (issue 17, item 6): the date the
//! company was registered (it also decides a programme's young-startup rate), its headcount as
//! recorded over time, and the financing rounds it closed.
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
    FoundedOn,
}

#[derive(DeriveIden)]
enum Headcounts {
    Table,
    Id,
    StartupId,
    AsOf,
    Employees,
    RecordedBy,
    RecordedAt,
}

#[derive(DeriveIden)]
enum Financings {
    Table,
    Id,
    StartupId,
    ClosedOn,
    Round,
    AmountFen,
    Investors,
    RecordedBy,
    RecordedAt,
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
        m.alter_table(
            Table::alter()
                .table(Startups::Table)
                .add_column(ColumnDef::new(Startups::FoundedOn).date().null())
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Headcounts::Table)
                .col(big_pk_auto(Headcounts::Id))
                .col(big_integer(Headcounts::StartupId))
                .col(date(Headcounts::AsOf))
                .col(integer(Headcounts::Employees))
                .col(big_integer_null(Headcounts::RecordedBy))
                .col(timestamp_with_time_zone(Headcounts::RecordedAt))
                .foreign_key(&mut fk(
                    (Headcounts::Table, Headcounts::StartupId),
                    (Startups::Table, Startups::Id),
                ))
                .foreign_key(&mut fk(
                    (Headcounts::Table, Headcounts::RecordedBy),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // One count per firm and day: recording the same day again corrects it.
        m.create_index(
            Index::create()
                .name("ux_headcounts_startup_as_of")
                .table(Headcounts::Table)
                .col(Headcounts::StartupId)
                .col(Headcounts::AsOf)
                .unique()
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table(Financings::Table)
                .col(big_pk_auto(Financings::Id))
                .col(big_integer(Financings::StartupId))
                .col(date(Financings::ClosedOn))
                .col(string_len(Financings::Round, 20))
                .col(big_integer(Financings::AmountFen))
                .col(string_len(Financings::Investors, 500).default(""))
                .col(big_integer_null(Financings::RecordedBy))
                .col(timestamp_with_time_zone(Financings::RecordedAt))
                .foreign_key(&mut fk(
                    (Financings::Table, Financings::StartupId),
                    (Startups::Table, Startups::Id),
                ))
                .foreign_key(&mut fk(
                    (Financings::Table, Financings::RecordedBy),
                    (Users::Table, Users::Id),
                ))
                .to_owned(),
        )
        .await?;
        // The report sums a year's rounds by date.
        m.create_index(
            Index::create()
                .name("idx_financings_closed_on")
                .table(Financings::Table)
                .col(Financings::ClosedOn)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_financings_startup")
                .table(Financings::Table)
                .col(Financings::StartupId)
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for table in [Financings::Table.into_iden(), Headcounts::Table.into_iden()] {
            m.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        m.alter_table(
            Table::alter()
                .table(Startups::Table)
                .drop_column(Startups::FoundedOn)
                .to_owned(),
        )
        .await
    }
}
