//! Startups, the people on their teams, and their incubation: mentors, milestones, notes.

pub mod startup {
    use sea_orm::entity::prelude::*;
    pub use wire::startups::incubation::StartupStatus as Status;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "startups")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        pub credit_code: Option<String>,
        pub sector: wire::startups::Sector,
        pub stage: wire::startups::Stage,
        pub team_size: i32,
        pub website: Option<String>,
        pub founders: String,
        pub status: Status,
        pub created_by: i64,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        /// The residency window of an incubating startup, when the park has set one.
        pub residency_from: Option<Date>,
        pub residency_until: Option<Date>,
        /// When it graduated or exited, and why.
        pub ended_at: Option<DateTimeUtc>,
        pub end_reason: Option<String>,
        /// The day the company was registered, when the team or the park has said.
        pub founded_on: Option<Date>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::CreatedBy",
            to = "crate::auth::entity::user::Column::Id"
        )]
        Creator,
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Creator.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod member {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "startup_members")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub startup_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub role: wire::startups::MemberRole,
        pub joined_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::startup::Entity",
            from = "Column::StartupId",
            to = "super::startup::Column::Id"
        )]
        Startup,
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::UserId",
            to = "crate::auth::entity::user::Column::Id"
        )]
        User,
    }

    impl Related<super::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mentor {
    use sea_orm::entity::prelude::*;

    /// A mentor assigned to an incubating startup.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "startup_mentors")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub startup_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub assigned_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::startup::Entity",
            from = "Column::StartupId",
            to = "super::startup::Column::Id"
        )]
        Startup,
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::UserId",
            to = "crate::auth::entity::user::Column::Id"
        )]
        User,
    }

    impl Related<super::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod milestone {
    use sea_orm::entity::prelude::*;
    pub use wire::startups::incubation::MilestoneStatus as Status;

    /// A goal of an incubating startup: `planned`, then signed off as `done` or `missed`.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "milestones")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub title: String,
        pub description: String,
        pub due_on: Date,
        pub status: Status,
        pub evidence: Option<String>,
        pub notes: Option<String>,
        pub signed_off_by: Option<i64>,
        pub signed_off_at: Option<DateTimeUtc>,
        /// When the reminder before the due date went out (once).
        pub reminded_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::startup::Entity",
            from = "Column::StartupId",
            to = "super::startup::Column::Id"
        )]
        Startup,
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::SignedOffBy",
            to = "crate::auth::entity::user::Column::Id"
        )]
        SignedOffBy,
    }

    impl Related<super::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::SignedOffBy.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod note {
    use sea_orm::entity::prelude::*;

    /// An entry of a startup's notes timeline, written by an admin or one of its mentors.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "startup_notes")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub author_id: i64,
        pub body: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::startup::Entity",
            from = "Column::StartupId",
            to = "super::startup::Column::Id"
        )]
        Startup,
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::AuthorId",
            to = "crate::auth::entity::user::Column::Id"
        )]
        Author,
    }

    impl Related<super::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Author.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

/// A firm's headcount on a day, as its team or the park recorded it.
pub mod headcount {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "headcounts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub as_of: Date,
        pub employees: i32,
        pub recorded_by: Option<i64>,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A financing round a firm closed.
pub mod financing {
    use sea_orm::entity::prelude::*;
    pub use wire::startups::figures::FinancingRound as Round;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "financings")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub startup_id: i64,
        pub closed_on: Date,
        pub round: Round,
        pub amount_fen: i64,
        pub investors: String,
        pub recorded_by: Option<i64>,
        pub recorded_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
