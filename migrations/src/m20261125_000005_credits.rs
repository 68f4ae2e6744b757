//! GPU credit: compute resources, grants, the append-only ledger, and the sync outbox that
//! keeps the cluster's allocations in step with the grants.
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    ClusterLogin,
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
    Name,
    GpuModel,
    Backend,
    Cluster,
    AccountPattern,
    Settings,
    RepairMode,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Id,
    StartupId,
    ResourceId,
    Status,
    GrantedMinutes,
    AdjustedMinutes,
    ConsumedMinutes,
    ForfeitedMinutes,
    ValidFrom,
    ValidUntil,
    Reason,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum LedgerEntries {
    Table,
    Id,
    GrantId,
    StartupId,
    ResourceId,
    Kind,
    Minutes,
    BalanceAfter,
    ExternalRef,
    Note,
    ActorUserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum SyncJobs {
    Table,
    Id,
    StartupId,
    ResourceId,
    Desired,
    IdempotencyKey,
    Status,
    Attempts,
    NextAttemptAt,
    LeaseUntil,
    LastError,
    CreatedAt,
    UpdatedAt,
    DoneAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        // The login a person uses on the cluster: team members become Slurm users by it.
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .add_column(string_len_null(Users::ClusterLogin, 32))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_users_cluster_login")
                .table(Users::Table)
                .col(Users::ClusterLogin)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(ComputeResources::Table)
                .col(big_pk_auto(ComputeResources::Id))
                .col(string_len_uniq(ComputeResources::Name, 100))
                .col(string_len(ComputeResources::GpuModel, 60))
                .col(string_len(ComputeResources::Backend, 16))
                .col(string_len(ComputeResources::Cluster, 100))
                .col(string_len(ComputeResources::AccountPattern, 100))
                .col(text(ComputeResources::Settings))
                .col(string_len(ComputeResources::RepairMode, 16))
                .col(timestamp_with_time_zone(ComputeResources::CreatedAt))
                .col(timestamp_with_time_zone(ComputeResources::UpdatedAt))
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(Grants::Table)
                .col(big_pk_auto(Grants::Id))
                .col(big_integer(Grants::StartupId))
                .col(big_integer(Grants::ResourceId))
                .col(string_len(Grants::Status, 16))
                .col(big_integer(Grants::GrantedMinutes))
                .col(big_integer(Grants::AdjustedMinutes))
                .col(big_integer(Grants::ConsumedMinutes))
                .col(big_integer(Grants::ForfeitedMinutes))
                .col(timestamp_with_time_zone(Grants::ValidFrom))
                .col(timestamp_with_time_zone(Grants::ValidUntil))
                .col(text(Grants::Reason))
                .col(big_integer_null(Grants::CreatedBy))
                .col(timestamp_with_time_zone(Grants::CreatedAt))
                .col(timestamp_with_time_zone(Grants::UpdatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(Grants::Table, Grants::StartupId)
                        .to(Startups::Table, Startups::Id),
                )
                .foreign_key(
                    ForeignKey::create()
                        .from(Grants::Table, Grants::ResourceId)
                        .to(ComputeResources::Table, ComputeResources::Id),
                )
                .to_owned(),
        )
        .await?;
        for (name, cols) in [
            (
                "idx_grants_startup_resource",
                vec![Grants::StartupId, Grants::ResourceId],
            ),
            (
                "idx_grants_status_until",
                vec![Grants::Status, Grants::ValidUntil],
            ),
            ("idx_grants_resource", vec![Grants::ResourceId, Grants::Id]),
        ] {
            let mut idx = Index::create();
            idx.name(name).table(Grants::Table);
            for c in cols {
                idx.col(c);
            }
            m.create_index(idx.to_owned()).await?;
        }

        m.create_table(
            Table::create()
                .table(LedgerEntries::Table)
                .col(big_pk_auto(LedgerEntries::Id))
                .col(big_integer(LedgerEntries::GrantId))
                .col(big_integer(LedgerEntries::StartupId))
                .col(big_integer(LedgerEntries::ResourceId))
                .col(string_len(LedgerEntries::Kind, 24))
                .col(big_integer(LedgerEntries::Minutes))
                .col(big_integer(LedgerEntries::BalanceAfter))
                .col(string_len_null(LedgerEntries::ExternalRef, 120))
                .col(text(LedgerEntries::Note))
                .col(big_integer_null(LedgerEntries::ActorUserId))
                .col(timestamp_with_time_zone(LedgerEntries::CreatedAt))
                .foreign_key(
                    ForeignKey::create()
                        .from(LedgerEntries::Table, LedgerEntries::GrantId)
                        .to(Grants::Table, Grants::Id),
                )
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_ledger_grant")
                .table(LedgerEntries::Table)
                .col(LedgerEntries::GrantId)
                .col(LedgerEntries::Id)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_ledger_startup")
                .table(LedgerEntries::Table)
                .col(LedgerEntries::StartupId)
                .col(LedgerEntries::CreatedAt)
                .to_owned(),
        )
        .await?;
        // A job's usage is imported once per resource, whatever happens.
        m.create_index(
            Index::create()
                .name("idx_ledger_external_ref")
                .table(LedgerEntries::Table)
                .col(LedgerEntries::ResourceId)
                .col(LedgerEntries::ExternalRef)
                .unique()
                .to_owned(),
        )
        .await?;

        m.create_table(
            Table::create()
                .table(SyncJobs::Table)
                .col(big_pk_auto(SyncJobs::Id))
                .col(big_integer(SyncJobs::StartupId))
                .col(big_integer(SyncJobs::ResourceId))
                .col(text(SyncJobs::Desired))
                .col(string_len_uniq(SyncJobs::IdempotencyKey, 64))
                .col(string_len(SyncJobs::Status, 16))
                .col(integer(SyncJobs::Attempts))
                .col(timestamp_with_time_zone(SyncJobs::NextAttemptAt))
                .col(timestamp_with_time_zone_null(SyncJobs::LeaseUntil))
                .col(text_null(SyncJobs::LastError))
                .col(timestamp_with_time_zone(SyncJobs::CreatedAt))
                .col(timestamp_with_time_zone(SyncJobs::UpdatedAt))
                .col(timestamp_with_time_zone_null(SyncJobs::DoneAt))
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sync_jobs_due")
                .table(SyncJobs::Table)
                .col(SyncJobs::Status)
                .col(SyncJobs::NextAttemptAt)
                .to_owned(),
        )
        .await?;
        m.create_index(
            Index::create()
                .name("idx_sync_jobs_target")
                .table(SyncJobs::Table)
                .col(SyncJobs::StartupId)
                .col(SyncJobs::ResourceId)
                .col(SyncJobs::Id)
                .to_owned(),
        )
        .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            SyncJobs::Table.into_iden(),
            LedgerEntries::Table.into_iden(),
            Grants::Table.into_iden(),
            ComputeResources::Table.into_iden(),
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        m.drop_index(
            Index::drop()
                .name("idx_users_cluster_login")
                .table(Users::Table)
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Users::Table)
                .drop_column(Users::ClusterLogin)
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
