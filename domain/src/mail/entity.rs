//! The email outbox: every message is a row first, written with the change that causes it.
use sea_orm::entity::prelude::*;
pub use wire::mail::MailStatus as Status;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "email_outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub to_address: String,
    pub to_name: String,
    pub locale: String,
    pub kind: wire::mail::MailKind,
    pub subject: String,
    pub body_text: String,
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    pub locked_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub delivery_ref: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The one-time token that replaces `TOKEN_SLOT` in the body when the message is sent;
    /// cleared once it has been delivered.
    pub secret: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
