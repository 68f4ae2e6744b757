//! The channels' tables: the channels an admin configured, and their outbox.

pub mod channel {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chat_channels")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub name: String,
        /// `wecom`, `dingtalk` or `feishu` (`super::super::Platform`).
        pub platform: wire::channels::Platform,
        /// Holds the robot's token (WeCom's key, DingTalk's access_token): never shown whole.
        pub webhook_url: String,
        /// The signing secret (DingTalk, Feishu); empty when the robot does not sign.
        pub secret: String,
        /// The subscribed events' keys, comma-separated.
        pub events: String,
        pub locale: String,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::delivery::Entity")]
        Delivery,
    }

    impl Related<super::delivery::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Delivery.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}

pub mod delivery {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "chat_deliveries")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub channel_id: i64,
        pub event: wire::channels::ChannelEvent,
        pub title: String,
        /// Markdown, in the channel's language; each platform wraps it in its own card.
        pub body: String,
        pub status: wire::channels::DeliveryStatus,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub locked_until: Option<DateTimeUtc>,
        pub error_kind: Option<wire::channels::FailureKind>,
        pub last_error: Option<String>,
        pub sent_at: Option<DateTimeUtc>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::channel::Entity",
            from = "Column::ChannelId",
            to = "super::channel::Column::Id",
            on_delete = "Cascade"
        )]
        Channel,
    }

    impl Related<super::channel::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Channel.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
