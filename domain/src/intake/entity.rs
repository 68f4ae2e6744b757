//! Intake rounds (the windows in which startups apply), their rubrics, applications and
//! each application's status timeline.
pub use round::*;

pub mod round {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "intake_rounds")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub title_en: String,
        pub title_zh: String,
        pub description_en: String,
        pub description_zh: String,
        pub opens_at: DateTimeUtc,
        pub closes_at: DateTimeUtc,
        pub review_deadline: Option<DateTimeUtc>,
        pub mentors_per_application: i32,
        pub blind_review: bool,
        pub created_by: Option<i64>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        /// The round's title in the reader's language.
        pub fn title(&self, locale: crate::i18n::Locale) -> String {
            match locale {
                crate::i18n::Locale::ZhCn => self.title_zh.clone(),
                crate::i18n::Locale::En => self.title_en.clone(),
            }
        }

        pub fn description(&self, locale: crate::i18n::Locale) -> String {
            match locale {
                crate::i18n::Locale::ZhCn => self.description_zh.clone(),
                crate::i18n::Locale::En => self.description_en.clone(),
            }
        }
    }
}

pub mod criterion {
    use sea_orm::entity::prelude::*;

    /// One line of a round's rubric: mentors score it 1–5; its weight counts in the total.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "rubric_criteria")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub round_id: i64,
        pub position: i32,
        pub name_en: String,
        pub name_zh: String,
        pub guidance_en: String,
        pub guidance_zh: String,
        pub weight: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::round::Entity",
            from = "Column::RoundId",
            to = "super::round::Column::Id"
        )]
        Round,
    }

    impl Related<super::round::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Round.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod application {
    use sea_orm::entity::prelude::*;
    pub use wire::intake::ApplicationStatus as Status;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "applications")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub round_id: i64,
        pub startup_id: i64,
        pub status: Status,
        pub problem: String,
        pub solution: String,
        pub models_data: String,
        pub gpu_model: String,
        pub gpu_hours: i64,
        pub traction: String,
        pub team: String,
        /// The startup's profile as it was when the application was submitted (JSON).
        pub profile_snapshot: Option<String>,
        pub decision_message: Option<String>,
        pub submitted_at: Option<DateTimeUtc>,
        pub decided_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::round::Entity",
            from = "Column::RoundId",
            to = "super::round::Column::Id"
        )]
        Round,
        #[sea_orm(
            belongs_to = "crate::startups::entity::startup::Entity",
            from = "Column::StartupId",
            to = "crate::startups::entity::startup::Column::Id"
        )]
        Startup,
    }

    impl Related<super::round::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Round.def()
        }
    }

    impl Related<crate::startups::entity::startup::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Startup.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod event {
    use sea_orm::entity::prelude::*;
    pub use wire::intake::ApplicationStatus as Status;

    /// A step of an application's timeline: the status it entered, when, and by whom.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "application_events")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub application_id: i64,
        pub status: Status,
        pub actor_user_id: Option<i64>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::application::Entity",
            from = "Column::ApplicationId",
            to = "super::application::Column::Id"
        )]
        Application,
    }

    impl Related<super::application::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Application.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
