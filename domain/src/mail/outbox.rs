//! Writing to the outbox (inside the caller's transaction) and delivering what is due.
use super::entity;
use super::templates::MailContent;
use super::MailStatus;
use super::Mailer;
use crate::i18n::Locale;
use crate::queue::{AfterFailure, Outbox, Policy};
use chrono::Utc;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, Set};

/// How messages are leased and retried: 30 s doubling to an hour, then dead after the 8th
/// failure, waiting for an admin.
pub const POLICY: Policy = Policy::OUTBOX;

const OUTBOX: Outbox<entity::Entity> = Outbox {
    table: "email_outbox",
    pending: || MailStatus::Pending.into(),
    id: |row| row.id,
};

pub async fn enqueue(
    db: &impl ConnectionTrait,
    to_address: &str,
    to_name: &str,
    locale: Locale,
    content: &MailContent,
) -> Result<i64, DbErr> {
    let now = Utc::now();
    let row = entity::ActiveModel {
        to_address: Set(to_address.into()),
        to_name: Set(to_name.into()),
        locale: Set(locale.tag().into()),
        kind: Set(content.kind),
        subject: Set(content.subject.clone()),
        body_text: Set(content.body.clone()),
        status: Set(MailStatus::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        locked_until: Set(None),
        last_error: Set(None),
        delivery_ref: Set(None),
        sent_at: Set(None),
        created_at: Set(now),
        secret: Set(content.secret.clone()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// The body as it is sent: the one-time token, while it is held, in its slot.
pub fn delivered_body(row: &entity::Model) -> String {
    match &row.secret {
        Some(token) => row.body_text.replace(super::templates::TOKEN_SLOT, token),
        None => row.body_text.clone(),
    }
}

/// Claims up to `limit` due messages with a lease (see `crate::queue`).
async fn claim(db: &impl ConnectionTrait, limit: u64) -> Result<Vec<entity::Model>, DbErr> {
    crate::queue::claim(db, &OUTBOX, &POLICY, limit, None).await
}

fn build_message(from: &str, row: &entity::Model) -> Result<lettre::Message, String> {
    let to = if row.to_name.is_empty() {
        row.to_address.clone()
    } else {
        format!("\"{}\" <{}>", row.to_name.replace('"', ""), row.to_address)
    };
    lettre::Message::builder()
        .from(from.parse().map_err(|e| format!("from address: {e}"))?)
        .to(to.parse().map_err(|e| format!("to address: {e}"))?)
        .subject(row.subject.clone())
        .message_id(Some(format!("<outbox-{}@hatchery>", row.id)))
        .header(lettre::message::header::ContentType::TEXT_PLAIN)
        .body(delivered_body(row))
        .map_err(|e| e.to_string())
}

/// Delivers what is due; returns how many messages were sent.
#[tracing::instrument(skip_all)]
pub async fn deliver_due(
    db: &impl ConnectionTrait,
    mailer: &Mailer,
    from: &str,
    limit: u64,
) -> Result<usize, DbErr> {
    let mut sent = 0;
    for row in claim(db, limit).await? {
        let result = match build_message(from, &row) {
            Ok(message) => {
                mailer
                    .deliver(&format!("{:08}-{}", row.id, row.kind), message)
                    .await
            }
            Err(e) => Err(e),
        };
        let now = Utc::now();
        let attempts = row.attempts + 1;
        let mut active: entity::ActiveModel = row.clone().into();
        active.attempts = Set(attempts);
        active.locked_until = Set(None);
        match result {
            Ok(reference) => {
                active.status = Set(MailStatus::Sent);
                active.sent_at = Set(Some(now));
                active.delivery_ref = Set(Some(reference));
                active.last_error = Set(None);
                // Delivered: the token now lives only in the recipient's mailbox.
                active.secret = Set(None);
                sent += 1;
                tracing::info!(outbox_id = row.id, kind = %row.kind, "email sent");
            }
            Err(error) => {
                tracing::warn!(outbox_id = row.id, attempts, %error, "email delivery failed");
                active.last_error = Set(Some(error));
                match POLICY.after_failure(attempts, now, true) {
                    AfterFailure::Dead => active.status = Set(MailStatus::Dead),
                    AfterFailure::RetryAt(at) => active.next_attempt_at = Set(at),
                }
            }
        }
        active.update(db).await?;
    }
    Ok(sent)
}

fn to_row(m: entity::Model) -> (super::OutboxRow, String) {
    (
        super::OutboxRow {
            id: m.id,
            to_address: m.to_address,
            kind: m.kind,
            subject: m.subject,
            status: m.status,
            attempts: m.attempts,
            last_error: m.last_error,
            delivery_ref: m.delivery_ref,
            created_at: m.created_at,
            sent_at: m.sent_at,
        },
        m.body_text,
    )
}

/// The messages a table view selects: `status` is their delivery state, `q` part of the
/// recipient or subject; ordered by the chosen column.
fn outbox_select(
    query: &crate::tables::TableQuery,
) -> crate::error::AppResult<crate::tables::Sorted<entity::Entity>> {
    use crate::tables;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, Condition, QueryFilter};
    let mut select = entity::Entity::find();
    if let Some(s) = tables::state_of(&query.status, MailStatus::ALL, "status")? {
        select = select.filter(entity::Column::Status.eq(s));
    }
    if let Some(pattern) = tables::search(query)? {
        select = select.filter(
            Condition::any()
                .add(tables::like(Expr::col(entity::Column::ToAddress), &pattern))
                .add(tables::like(Expr::col(entity::Column::Subject), &pattern)),
        );
    }
    let (column, order) = tables::sort(query, super::OUTBOX_COLUMNS)?;
    let by = match column.key {
        "to" => entity::Column::ToAddress,
        "status" => entity::Column::Status,
        "attempts" => entity::Column::Attempts,
        _ => entity::Column::Id,
    };
    Ok(tables::order(
        select,
        Expr::col(by),
        Expr::col(entity::Column::Id),
        order,
    ))
}

/// One page of the admin's outbox (one query).
pub async fn list(
    db: &impl ConnectionTrait,
    actor: &crate::access::Actor,
    query: &crate::tables::TableQuery,
) -> Result<super::OutboxPage, crate::error::AppError> {
    actor.require(wire::auth::Role::Admin)?;
    let messages = crate::tables::page(db, outbox_select(query)?, query).await?;
    Ok(super::OutboxPage {
        rows: messages.rows.into_iter().map(|m| to_row(m).0).collect(),
        page: messages.page,
        more: messages.more,
        keys: messages.keys,
        file_dir: None,
    })
}

/// Every message the view selects, as CSV (without bodies).
pub async fn csv(
    db: &sea_orm::DatabaseConnection,
    actor: &crate::access::Actor,
    query: &crate::tables::TableQuery,
) -> Result<String, crate::error::AppError> {
    actor.require(wire::auth::Role::Admin)?;
    let times = crate::csv::Times(actor.zone);
    let (created, sent) = (times.header("created"), times.header("sent"));
    let mut out = crate::csv::line([
        "id",
        created.as_str(),
        "to",
        "kind",
        "subject",
        "status",
        "attempts",
        sent.as_str(),
        "last_error",
    ]);
    let mut batches = crate::tables::Batches::new(outbox_select(query)?);
    while let Some(batch) = batches.next(db).await? {
        for m in batch {
            out.push_str(&crate::csv::line([
                m.id.to_string(),
                times.cell(m.created_at),
                m.to_address,
                m.kind.to_string(),
                m.subject,
                m.status.to_string(),
                m.attempts.to_string(),
                times.cell_opt(m.sent_at),
                m.last_error.unwrap_or_default(),
            ]));
        }
    }
    Ok(out)
}

pub async fn message(
    db: &impl ConnectionTrait,
    actor: &crate::access::Actor,
    id: i64,
) -> Result<super::OutboxMessage, crate::error::AppError> {
    actor.require(wire::auth::Role::Admin)?;
    let m = entity::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let (row, body_text) = to_row(m);
    Ok(super::OutboxMessage { row, body_text })
}

/// Puts a dead message back in the queue, for another round of attempts.
pub async fn retry(
    db: &sea_orm::DatabaseConnection,
    actor: &crate::access::Actor,
    id: i64,
) -> Result<(), crate::error::AppError> {
    actor.require(wire::auth::Role::Admin)?;
    let txn = crate::txn::begin(db).await?;
    let m = entity::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    if m.status != MailStatus::Dead {
        return Err(crate::error::AppError::conflict("error.email_not_dead"));
    }
    let mut active: entity::ActiveModel = m.into();
    active.status = Set(MailStatus::Pending);
    active.attempts = Set(0);
    active.next_attempt_at = Set(Utc::now());
    active.update(&txn).await?;
    crate::audit::record(
        &txn,
        crate::audit::Change {
            actor: Some(actor.user_id),
            action: "email.retried",
            entity_type: "email",
            entity_id: id.to_string(),
            before: Some(serde_json::json!({"status": MailStatus::Dead})),
            after: Some(serde_json::json!({"status": MailStatus::Pending})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}
