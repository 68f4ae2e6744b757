//! An index that answers "this startup's earliest planned milestone" with one lookup: the
//! startup list asks it for each row of a page. With only (startup, due) and (status, due),
//! SQLite could walk the whole park's planned milestones through the second.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const NAME: &str = "idx_milestones_startup_status_due";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_index(
            Index::create()
                .name(NAME)
                .table(Alias::new("milestones"))
                .col(Alias::new("startup_id"))
                .col(Alias::new("status"))
                .col(Alias::new("due_on"))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.drop_index(
            Index::drop()
                .name(NAME)
                .table(Alias::new("milestones"))
                .to_owned(),
        )
        .await
    }
}
