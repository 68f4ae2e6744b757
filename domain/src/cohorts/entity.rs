//! Tables of training cohorts: cohorts, sessions, enrolments, attendance, certificates.

pub mod cohort {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cohorts")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub title_en: String,
        pub title_zh: String,
        pub track: wire::cohorts::Track,
        pub description_en: String,
        pub description_zh: String,
        pub capacity: i32,
        pub enrol_opens_at: DateTimeUtc,
        pub enrol_closes_at: DateTimeUtc,
        pub starts_on: Date,
        pub ends_on: Date,
        /// A place, or an online link.
        pub location: String,
        /// Share of sessions (percent) a person must attend to complete the cohort.
        pub completion_percent: i32,
        /// Bumped by every roster change; the bump is also the lock that serialises them.
        pub roster_version: i64,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
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

pub mod session {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "cohort_sessions")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub cohort_id: i64,
        pub starts_at: DateTimeUtc,
        pub ends_at: DateTimeUtc,
        pub topic: String,
        pub instructor: String,
        /// Shown in the room (or the call) so attendees can check themselves in.
        pub checkin_code: String,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::cohort::Entity",
            from = "Column::CohortId",
            to = "super::cohort::Column::Id"
        )]
        Cohort,
    }

    impl Related<super::cohort::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Cohort.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod enrolment {
    use sea_orm::entity::prelude::*;
    pub use wire::cohorts::EnrolmentStatus as Status;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enrolments")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub cohort_id: i64,
        pub user_id: i64,
        /// `enrolled`, `waitlisted`, `withdrawn` or `completed`.
        pub status: Status,
        /// When the person joined the list: the waitlist is served in this order.
        pub queued_at: DateTimeUtc,
        pub enrolled_at: Option<DateTimeUtc>,
        pub withdrawn_at: Option<DateTimeUtc>,
        pub completed_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::cohort::Entity",
            from = "Column::CohortId",
            to = "super::cohort::Column::Id"
        )]
        Cohort,
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::UserId",
            to = "crate::auth::entity::user::Column::Id"
        )]
        User,
    }

    impl Related<super::cohort::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Cohort.def()
        }
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod attendance {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "attendance")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub session_id: i64,
        #[sea_orm(primary_key, auto_increment = false)]
        pub user_id: i64,
        pub present: bool,
        pub source: wire::cohorts::AttendanceSource,
        pub marked_by: Option<i64>,
        pub marked_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::session::Entity",
            from = "Column::SessionId",
            to = "super::session::Column::Id"
        )]
        Session,
        #[sea_orm(
            belongs_to = "crate::auth::entity::user::Entity",
            from = "Column::UserId",
            to = "crate::auth::entity::user::Column::Id"
        )]
        User,
    }

    impl Related<super::session::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Session.def()
        }
    }

    impl Related<crate::auth::entity::user::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::User.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod certificate {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "certificates")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        #[sea_orm(unique)]
        pub code: String,
        #[sea_orm(unique)]
        pub enrolment_id: i64,
        pub cohort_id: i64,
        pub user_id: i64,
        /// The holder's name when it was issued, as printed.
        pub holder_name: String,
        pub sessions_attended: i32,
        pub sessions_total: i32,
        pub issued_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::enrolment::Entity",
            from = "Column::EnrolmentId",
            to = "super::enrolment::Column::Id"
        )]
        Enrolment,
    }

    impl Related<super::enrolment::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Enrolment.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
