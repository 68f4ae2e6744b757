//! Compute prices (issue 17): a resource's price per GPU-hour in fen, each starting on a day
//! and never edited (a new one starts instead), so every past charge keeps the price it had;
//! and on the resource, whether it is domestic compute and who provides it.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ComputeResources {
    Table,
    Id,
    Domestic,
    Provider,
    ProviderCreditCode,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ResourcePrices {
    Table,
    Id,
    ResourceId,
    FenPerGpuHour,
    StartsOn,
    Note,
    CreatedBy,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds one at a time.
        for column in [
            ColumnDef::new(ComputeResources::Domestic)
                .boolean()
                .not_null()
                .default(false)
                .to_owned(),
            ColumnDef::new(ComputeResources::Provider)
                .string_len(200)
                .not_null()
                .default("")
                .to_owned(),
            ColumnDef::new(ComputeResources::ProviderCreditCode)
                .string_len(18)
                .null()
                .to_owned(),
        ] {
            m.alter_table(
                Table::alter()
                    .table(ComputeResources::Table)
                    .add_column(column)
                    .to_owned(),
            )
            .await?;
        }
        m.create_table(
            Table::create()
                .table(ResourcePrices::Table)
                .col(big_pk_auto(ResourcePrices::Id))
                .col(big_integer(ResourcePrices::ResourceId))
                .col(big_integer(ResourcePrices::FenPerGpuHour))
                .col(date(ResourcePrices::StartsOn))
                .col(text(ResourcePrices::Note).default(""))
                .col(big_integer_null(ResourcePrices::CreatedBy))
                .col(timestamp_with_time_zone(ResourcePrices::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(ResourcePrices::Table, ResourcePrices::ResourceId)
                        .to(ComputeResources::Table, ComputeResources::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(ResourcePrices::Table, ResourcePrices::CreatedBy)
                        .to(Users::Table, Users::Id),
                )
                .to_owned(),
        )
        .await?;
        // One price a day per resource; the lookup of the price in force reads this index.
        m.create_index(
            Index::create()
                .name("ux_resource_prices_resource_day")
                .table(ResourcePrices::Table)
                .col(ResourcePrices::ResourceId)
                .col(ResourcePrices::StartsOn)
                .unique()
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_table(Table::drop().table(ResourcePrices::Table).to_owned())
            .await?;
        for column in [
            ComputeResources::ProviderCreditCode,
            ComputeResources::Provider,
            ComputeResources::Domestic,
        ] {
            m.alter_table(
                Table::alter()
                    .table(ComputeResources::Table)
                    .drop_column(column)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
