//! Who pays for a grant's hours (issue 17): the park's free credit, as every grant so far, or
//! the startup's own purchase. Both raise the startup's limit on the cluster; only the park's
//! credit pays for the jobs that use it, the rest is on the startup's statement, where the
//! subsidy programmes pay their share.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Grants {
    Table,
    Funding,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Grants::Table)
                .add_column(
                    ColumnDef::new(Grants::Funding)
                        .string_len(20)
                        .not_null()
                        .default("park"),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Grants::Table)
                .drop_column(Grants::Funding)
                .to_owned(),
        )
        .await
    }
}
