//! Tables of GPU credit: resources, grants, their tranches, the ledger and the sync outbox.

pub mod resource {
    use sea_orm::entity::prelude::*;

    /// A cluster partition or platform whose GPU time is granted, and how to reach it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "compute_resources")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub name: String,
        pub gpu_model: String,
        pub backend: wire::credits::BackendKind,
        /// The Slurm cluster name (or the platform's name for other backends).
        pub cluster: String,
        /// How a startup's account is named, e.g. `startup-{id}`.
        pub account_pattern: String,
        /// Backend settings as JSON: the base URL, and for `http` the signing secret.
        pub settings: String,
        /// `auto` repairs drift at once; `approve` waits for an admin.
        pub repair_mode: wire::credits::RepairMode,
        /// Slurm: the slurmrestd dialect, `auto` (the newest both sides speak) or pinned
        /// (`v0038`, `v0042`).
        pub dialect: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// Domestic compute (some programmes pay a higher rate for it).
        pub domestic: bool,
        /// Who provides the compute (the cluster operator, perhaps the park's vendor).
        pub provider: String,
        /// The provider's unified social credit code, when known.
        pub provider_credit_code: Option<String>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod grant {
    use sea_orm::entity::prelude::*;
    pub use wire::credits::GrantStatus as Status;

    /// GPU credit for a startup on a resource. The four counters are kept by the ledger:
    /// granted + adjusted = consumed + forfeited + remaining.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "grants")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub resource_id: i64,
        pub status: Status,
        pub granted_minutes: i64,
        pub adjusted_minutes: i64,
        pub consumed_minutes: i64,
        pub forfeited_minutes: i64,
        /// Who pays for its hours: the park's credit or the startup's own purchase.
        pub funding: wire::credits::GrantFunding,
        pub valid_from: DateTimeUtc,
        pub valid_until: DateTimeUtc,
        pub reason: String,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub alerted_80_at: Option<DateTimeUtc>,
        pub alerted_100_at: Option<DateTimeUtc>,
        pub alerted_expiry_at: Option<DateTimeUtc>,
    }

    impl Model {
        /// The share of the credit used, in percent of what was granted and adjusted.
        pub fn used_percent(&self) -> i64 {
            let total = self.granted_minutes + self.adjusted_minutes;
            if total <= 0 {
                return 0;
            }
            self.consumed_minutes * 100 / total
        }

        /// The balance: granted + adjusted − consumed − forfeited (negative when overdrawn).
        pub fn remaining_minutes(&self) -> i64 {
            crate::credits::ledger::Counters::of(self).remaining()
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::startups::entity::startup::Entity",
            from = "Column::StartupId",
            to = "crate::startups::entity::startup::Column::Id"
        )]
        Startup,
        #[sea_orm(
            belongs_to = "crate::credits::entity::resource::Entity",
            from = "Column::ResourceId",
            to = "crate::credits::entity::resource::Column::Id"
        )]
        Resource,
    }

    impl Related<crate::startups::entity::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl Related<crate::credits::entity::resource::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Resource.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod ledger {
    use sea_orm::entity::prelude::*;
    pub use wire::credits::LedgerKind as Kind;

    /// One change of a grant's balance; never updated or deleted.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "ledger_entries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub grant_id: i64,
        pub startup_id: i64,
        pub resource_id: i64,
        pub kind: Kind,
        /// The change to the remaining balance, in GPU-minutes (negative for use and forfeits).
        pub minutes: i64,
        pub balance_after: i64,
        /// For imported usage: the job it came from, unique per resource.
        pub external_ref: Option<String>,
        pub note: String,
        pub actor_user_id: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::grant::Entity",
            from = "Column::GrantId",
            to = "super::grant::Column::Id"
        )]
        Grant,
        #[sea_orm(
            belongs_to = "crate::startups::entity::startup::Entity",
            from = "Column::StartupId",
            to = "crate::startups::entity::startup::Column::Id"
        )]
        Startup,
        #[sea_orm(
            belongs_to = "crate::credits::entity::resource::Entity",
            from = "Column::ResourceId",
            to = "crate::credits::entity::resource::Column::Id"
        )]
        Resource,
    }

    impl Related<super::grant::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Grant.def()
        }
    }

    impl Related<crate::startups::entity::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl Related<crate::credits::entity::resource::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Resource.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod sync_job {
    use sea_orm::entity::prelude::*;
    pub use wire::credits::SyncStatus as Status;

    /// The desired allocation of one startup on one resource, waiting to be applied.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "sync_jobs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub resource_id: i64,
        pub desired: String,
        #[sea_orm(unique)]
        pub idempotency_key: String,
        pub status: Status,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub lease_until: Option<DateTimeUtc>,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub done_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::startups::entity::startup::Entity",
            from = "Column::StartupId",
            to = "crate::startups::entity::startup::Column::Id"
        )]
        Startup,
        #[sea_orm(
            belongs_to = "crate::credits::entity::resource::Entity",
            from = "Column::ResourceId",
            to = "crate::credits::entity::resource::Column::Id"
        )]
        Resource,
    }

    impl Related<crate::startups::entity::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl Related<crate::credits::entity::resource::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Resource.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod tranche {
    use sea_orm::entity::prelude::*;
    pub use wire::startups::incubation::TrancheStatus as Status;

    /// GPU-minutes of a grant that a milestone's sign-off releases.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "grant_tranches")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub grant_id: i64,
        pub milestone_id: i64,
        pub minutes: i64,
        pub status: Status,
        pub released_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::grant::Entity",
            from = "Column::GrantId",
            to = "super::grant::Column::Id"
        )]
        Grant,
        #[sea_orm(
            belongs_to = "crate::startups::entity::milestone::Entity",
            from = "Column::MilestoneId",
            to = "crate::startups::entity::milestone::Column::Id"
        )]
        Milestone,
    }

    impl Related<super::grant::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Grant.def()
        }
    }

    impl Related<crate::startups::entity::milestone::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Milestone.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod price {
    use sea_orm::entity::prelude::*;

    /// A resource's price per GPU-hour from a day on, until the next one starts. Never edited:
    /// every charge keeps the price in force on the day its job ended.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "resource_prices")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub resource_id: i64,
        pub fen_per_gpu_hour: i64,
        pub starts_on: Date,
        pub note: String,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::resource::Entity",
            from = "Column::ResourceId",
            to = "super::resource::Column::Id"
        )]
        Resource,
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::CreatedBy",
            to = "crate::auth::entity::user::Column::Id"
        )]
        Creator,
    }

    impl Related<super::resource::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Resource.def()
        }
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Creator.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod charge {
    use sea_orm::entity::prelude::*;

    /// One finished job priced: its GPU-minutes at the price in force on the day (in the
    /// park's zone) it ended, written with its ledger entries and never changed.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "charges")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub resource_id: i64,
        /// The resource's provider when the job ended.
        pub provider: String,
        pub job_ref: String,
        pub gpu_minutes: i64,
        /// Of those, what the park's grants still held when it ended.
        pub covered_minutes: i64,
        /// None: no price was in force that day (the job costs nothing on a statement).
        pub fen_per_gpu_hour: Option<i64>,
        pub amount_fen: i64,
        pub domestic: bool,
        pub ended_at: DateTimeUtc,
        pub ended_on: Date,
        /// `YYYY-MM` of `ended_on`.
        pub period: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::resource::Entity",
            from = "Column::ResourceId",
            to = "super::resource::Column::Id"
        )]
        Resource,
    }

    impl Related<super::resource::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Resource.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
