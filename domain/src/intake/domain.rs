//! Rules of intake rounds.
use super::entity;
use super::OpenRound;
use crate::error::AppResult;
use crate::i18n::Locale;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

/// Rounds accepting applications at `now`, soonest closing first.
pub async fn open_rounds(
    db: &impl ConnectionTrait,
    locale: Locale,
    now: DateTime<Utc>,
) -> AppResult<Vec<OpenRound>> {
    let rounds = entity::Entity::find()
        .filter(entity::Column::OpensAt.lte(now))
        .filter(entity::Column::ClosesAt.gt(now))
        .order_by_asc(entity::Column::ClosesAt)
        .all(db)
        .await?;
    Ok(rounds
        .into_iter()
        .map(|r| OpenRound {
            id: r.id,
            title: r.title(locale),
            description: r.description(locale),
            closes_at: r.closes_at,
        })
        .collect())
}
