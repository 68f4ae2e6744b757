//! Tables of the park's administration: API tokens.

pub mod api_token {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "api_tokens")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        #[sea_orm(unique)]
        pub token_hash: String,
        /// The token's first characters, so people can tell their tokens apart.
        pub prefix: String,
        /// `read` or `write` (which includes read).
        pub scope: wire::admin::TokenScope,
        pub created_by: i64,
        pub created_at: DateTimeUtc,
        pub last_used_at: Option<DateTimeUtc>,
        pub revoked_at: Option<DateTimeUtc>,
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
