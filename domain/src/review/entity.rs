//! Tables of review: assignments and scores.

pub mod assignment {
    use sea_orm::entity::prelude::*;
    pub use wire::review::AssignmentStatus as Status;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_assignments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub application_id: i64,
        pub mentor_id: i64,
        pub status: Status,
        pub recommendation: Option<wire::review::Recommendation>,
        pub feedback_applicant: String,
        pub notes_committee: String,
        pub conflict_reason: Option<String>,
        pub assigned_by: Option<i64>,
        pub submitted_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::intake::entity::application::Entity",
            from = "Column::ApplicationId",
            to = "crate::intake::entity::application::Column::Id"
        )]
        Application,
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::MentorId",
            to = "crate::auth::entity::user::Column::Id"
        )]
        Mentor,
    }

    impl Related<crate::intake::entity::application::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Application.def()
        }
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Mentor.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod score {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "review_scores")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub assignment_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub criterion_id: i64,
        pub score: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::assignment::Entity",
            from = "Column::AssignmentId",
            to = "super::assignment::Column::Id"
        )]
        Assignment,
        #[sea_orm(
            belongs_to = "crate::intake::entity::criterion::Entity",
            from = "Column::CriterionId",
            to = "crate::intake::entity::criterion::Column::Id"
        )]
        Criterion,
    }

    impl Related<super::assignment::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Assignment.def()
        }
    }

    impl Related<crate::intake::entity::criterion::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Criterion.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod mentor_profile {
    use sea_orm::entity::prelude::*;

    /// What a mentor declares about themselves: affiliations, one per line.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "mentor_profiles")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub affiliations: String,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::UserId",
            to = "crate::auth::entity::user::Column::Id"
        )]
        User,
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
