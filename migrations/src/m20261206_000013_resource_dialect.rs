//! Which slurmrestd dialect a Slurm resource speaks: `auto` (the newest one both sides speak,
//! read from the server's OpenAPI description) or pinned (`v0038`, `v0042`).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ComputeResources {
    Table,
    Dialect,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ComputeResources::Table)
                .add_column(
                    ColumnDef::new(ComputeResources::Dialect)
                        .string_len(16)
                        .not_null()
                        .default("auto"),
                )
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(ComputeResources::Table)
                .drop_column(ComputeResources::Dialect)
                .to_owned(),
        )
        .await
    }
}
