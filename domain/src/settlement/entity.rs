//! Tables of settlement: funding programmes, the programmes one may not be combined with, the
//! startups enrolled in them, and the firms affiliated with a startup.

pub mod programme {
    use sea_orm::entity::prelude::*;
    pub use wire::settlement::SponsorKind;

    /// A funding programme: a sponsor's share of startups' compute bills, and its caps (fen;
    /// None is no cap of that kind).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "funding_programmes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name_en: String,
        pub name_zh: String,
        pub sponsor_kind: SponsorKind,
        pub sponsor: String,
        pub rate_domestic_bp: i64,
        pub rate_other_bp: i64,
        pub young_rate_bp: Option<i64>,
        pub young_years: Option<i32>,
        pub cap_company_year_fen: Option<i64>,
        pub cap_pool_fen: Option<i64>,
        pub cap_contract_fen: Option<i64>,
        pub valid_from: Date,
        pub valid_until: Date,
        pub region_prefix: Option<String>,
        pub unaffiliated_provider: bool,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::enrolment::Entity")]
        Enrolment,
    }

    impl Related<super::enrolment::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Enrolment.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod exclusion {
    use sea_orm::entity::prelude::*;

    /// A startup enrolled in `programme_id` may not also be in `excluded_id` (either way round).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_exclusions")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub programme_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub excluded_id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::programme::Entity",
            from = "Column::ProgrammeId",
            to = "super::programme::Column::Id"
        )]
        Programme,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod enrolment {
    use sea_orm::entity::prelude::*;

    /// A startup enrolled in a programme by an admin's decision; `cap_fen` is its own yearly
    /// cap when smaller than the programme's. Ended, it pays nothing after `ended_at`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "programme_enrolments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub programme_id: i64,
        pub startup_id: i64,
        pub cap_fen: Option<i64>,
        pub reason: String,
        pub decided_by: Option<i64>,
        pub decided_at: DateTimeUtc,
        pub ended_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::programme::Entity",
            from = "Column::ProgrammeId",
            to = "super::programme::Column::Id"
        )]
        Programme,
        #[sea_orm(
            belongs_to = "crate::startups::entity::startup::Entity",
            from = "Column::StartupId",
            to = "crate::startups::entity::startup::Column::Id"
        )]
        Startup,
    }

    impl Related<super::programme::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Programme.def()
        }
    }

    impl Related<crate::startups::entity::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod affiliate {
    use sea_orm::entity::prelude::*;

    /// A firm affiliated with a startup (a shareholder, a subsidiary): some programmes do not
    /// pay for compute it provides.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "startup_affiliates")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub credit_code: String,
        pub name: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::startups::entity::startup::Entity",
            from = "Column::StartupId",
            to = "crate::startups::entity::startup::Column::Id"
        )]
        Startup,
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod statement {
    use sea_orm::entity::prelude::*;
    pub use wire::settlement::statements::StatementStatus as Status;

    /// A month's bill of one startup with one provider, and its three parts. `revision` 0 is
    /// the month's first; a correction is the next revision, `corrects_id` naming the one
    /// before. Only a draft's amounts change.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "statements")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub provider: String,
        pub period: String,
        pub revision: i32,
        pub corrects_id: Option<i64>,
        pub status: Status,
        pub jobs: i64,
        pub gpu_minutes: i64,
        pub amount_fen: i64,
        pub park_fen: i64,
        pub subsidy_fen: i64,
        pub own_fen: i64,
        pub contract_no: String,
        pub contract_date: Option<Date>,
        pub invoice_no: String,
        pub payment_ref: String,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub issued_by: Option<i64>,
        pub issued_at: Option<DateTimeUtc>,
        pub paid_by: Option<i64>,
        pub paid_at: Option<DateTimeUtc>,
        pub claimed_by: Option<i64>,
        pub claimed_at: Option<DateTimeUtc>,
        pub reimbursed_by: Option<i64>,
        pub reimbursed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::startups::entity::startup::Entity",
            from = "Column::StartupId",
            to = "crate::startups::entity::startup::Column::Id"
        )]
        Startup,
    }

    impl Related<crate::startups::entity::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod statement_line {
    use sea_orm::entity::prelude::*;

    /// One job on a statement, with its share of the three parts.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "statement_lines")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub statement_id: i64,
        pub charge_id: i64,
        pub park_fen: i64,
        pub subsidy_fen: i64,
        pub own_fen: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::credits::entity::charge::Entity",
            from = "Column::ChargeId",
            to = "crate::credits::entity::charge::Column::Id"
        )]
        Charge,
    }

    impl Related<crate::credits::entity::charge::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Charge.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod statement_subsidy {
    use sea_orm::entity::prelude::*;

    /// What one programme pays on a statement.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "statement_subsidies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub statement_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub programme_id: i64,
        pub amount_fen: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::statement::Entity",
            from = "Column::StatementId",
            to = "super::statement::Column::Id"
        )]
        Statement,
        #[sea_orm(
            belongs_to = "super::programme::Entity",
            from = "Column::ProgrammeId",
            to = "super::programme::Column::Id"
        )]
        Programme,
    }

    impl Related<super::statement::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Statement.def()
        }
    }

    impl Related<super::programme::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Programme.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod statement_line_subsidy {
    use sea_orm::entity::prelude::*;

    /// What one programme pays on one job of a statement: a claim to that programme's sponsor
    /// shows these, job by job.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "statement_line_subsidies")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub statement_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub charge_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub programme_id: i64,
        pub amount_fen: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod claim {
    use sea_orm::entity::prelude::*;
    pub use wire::settlement::claims::ClaimStatus as Status;

    /// What the park files with a programme's sponsor for the months `period_from` to
    /// `period_until`: the statements in `claim_lines`, `total_fen` in all.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "claims")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub programme_id: i64,
        pub period_from: String,
        pub period_until: String,
        pub status: Status,
        pub statements: i64,
        pub total_fen: i64,
        /// The sponsor's reference for its payment, once reimbursed.
        pub sponsor_ref: String,
        pub filed_by: Option<i64>,
        pub filed_at: DateTimeUtc,
        pub reimbursed_by: Option<i64>,
        pub reimbursed_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::programme::Entity",
            from = "Column::ProgrammeId",
            to = "super::programme::Column::Id"
        )]
        Programme,
    }

    impl Related<super::programme::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Programme.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod claim_line {
    use sea_orm::entity::prelude::*;

    /// A statement on a claim, with what the claim's programme pays on it.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "claim_lines")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub claim_id: i64,
        pub programme_id: i64,
        pub statement_id: i64,
        pub amount_fen: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::statement::Entity",
            from = "Column::StatementId",
            to = "super::statement::Column::Id"
        )]
        Statement,
        #[sea_orm(
            belongs_to = "super::claim::Entity",
            from = "Column::ClaimId",
            to = "super::claim::Column::Id"
        )]
        Claim,
    }

    impl Related<super::statement::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Statement.def()
        }
    }

    impl Related<super::claim::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Claim.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A request to prepare a month's statements, claimed and run by the worker.
pub mod statement_run {
    use sea_orm::entity::prelude::*;
    pub use wire::settlement::statements::RunStatus as Status;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "statement_runs")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub period: String,
        pub status: Status,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub locked_until: Option<DateTimeUtc>,
        pub last_error: String,
        pub requested_by: Option<i64>,
        pub requested_at: DateTimeUtc,
        pub finished_at: Option<DateTimeUtc>,
        pub created: i64,
        pub refreshed: i64,
        pub unchanged: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
