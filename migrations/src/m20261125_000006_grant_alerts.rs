//! When each credit alert was sent for a grant (80 % used, 100 % used, 14 days before its end),
//! so that each goes out once.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Grants {
    Table,
    #[sea_orm(iden = "alerted_80_at")]
    Alerted80At,
    #[sea_orm(iden = "alerted_100_at")]
    Alerted100At,
    AlertedExpiryAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite adds a single column per ALTER TABLE.
        for col in [
            Grants::Alerted80At,
            Grants::Alerted100At,
            Grants::AlertedExpiryAt,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Grants::Table)
                    .add_column(timestamp_with_time_zone_null(col))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for col in [
            Grants::Alerted80At,
            Grants::Alerted100At,
            Grants::AlertedExpiryAt,
        ] {
            m.alter_table(
                Table::alter()
                    .table(Grants::Table)
                    .drop_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
