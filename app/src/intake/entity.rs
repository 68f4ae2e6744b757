//! Intake rounds: the windows in which startups apply to the programme.
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
