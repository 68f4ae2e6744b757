//! Indexes behind the admin tables' filters and sorts, so a page of a filtered, sorted list
//! at 10⁴ startups and 10⁶ ledger entries reads an index range instead of sorting the table.
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, columns)
const INDEXES: &[(&str, &str, &[&str])] = &[
    ("idx_ledger_kind", "ledger_entries", &["kind", "id"]),
    (
        "idx_ledger_resource",
        "ledger_entries",
        &["resource_id", "id"],
    ),
    ("idx_startups_created", "startups", &["created_at"]),
    ("idx_startups_sector_name", "startups", &["sector", "name"]),
    ("idx_startups_residency", "startups", &["residency_until"]),
    ("idx_users_name", "users", &["name"]),
    (
        "idx_applications_submitted",
        "applications",
        &["submitted_at"],
    ),
    (
        "idx_applications_status",
        "applications",
        &["status", "submitted_at"],
    ),
    ("idx_grants_status_id", "grants", &["status", "id"]),
    ("idx_sync_jobs_status_id", "sync_jobs", &["status", "id"]),
    (
        "idx_email_outbox_status_id",
        "email_outbox",
        &["status", "id"],
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, columns) in INDEXES {
            let mut idx = Index::create();
            idx.name(*name).table(Alias::new(*table));
            for c in *columns {
                idx.col(Alias::new(*c));
            }
            m.create_index(idx.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in INDEXES {
            m.drop_index(
                Index::drop()
                    .name(*name)
                    .table(Alias::new(*table))
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
