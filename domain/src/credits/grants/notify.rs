//! What a grant's team is told: changes to its grants, use crossing 80 % and 100 %, and an end
//! coming in 14 days; by email and on the chat channels that follow grants.
use super::commands::load;
use crate::auth::entity::user;
use crate::credits::entity::{grant, resource};
use crate::credits::format_gpu_hours;
use crate::credits::GrantStatus;
use crate::error::AppResult;
use crate::i18n::Locale;
use crate::mail::{outbox, templates};
use crate::startups::entity::{member, startup};
use chrono::{DateTime, Utc};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
};

/// Emails every member of the startup's team about a change to one of its grants, and posts
/// it to the chat channels that follow grants (or credit alerts).
pub(crate) async fn tell_team(
    txn: &impl ConnectionTrait,
    settings: &crate::state::Settings,
    g: &grant::Model,
    r: &resource::Model,
    event: &str,
) -> AppResult<()> {
    let ids: Vec<i64> = member::Entity::find()
        .filter(member::Column::StartupId.eq(g.startup_id))
        .all(txn)
        .await?
        .into_iter()
        .map(|m| m.user_id)
        .collect();
    let link = settings.link("/credits");
    for u in user::Entity::find()
        .filter(user::Column::Id.is_in(ids))
        .all(txn)
        .await?
    {
        let locale = Locale::from_tag(&u.locale).unwrap_or_default();
        // In the recipient's zone, named: the park's people may read it from elsewhere.
        let zone = crate::auth::sessions::person_zone(u.time_zone.as_deref(), settings.park_zone);
        let content = templates::grant_notice(
            locale,
            &u.name,
            event,
            &format!("{} ({})", r.name, r.gpu_model),
            &zone.format_named(&g.valid_until),
            &format_gpu_hours(g.remaining_minutes()),
            &link,
        );
        outbox::enqueue(txn, &u.email, &u.name, locale, &content).await?;
    }
    let startup_name = startup::Entity::find_by_id(g.startup_id)
        .one(txn)
        .await?
        .map(|s| s.name)
        .unwrap_or_default();
    let resource = format!("{} ({})", r.name, r.gpu_model);
    // A group reads it: the park's day, its zone named.
    let until = format!(
        "{} ({})",
        settings.park_zone.date(&g.valid_until),
        settings.park_zone.name()
    );
    let remaining = format_gpu_hours(g.remaining_minutes());
    let link = settings.link(&format!("/admin/grants/{}", g.id));
    crate::channels::notify::announce(txn, crate::channels::notify::grant_event(event), |l| {
        crate::channels::notify::grant(
            l,
            event,
            &startup_name,
            &resource,
            &until,
            &remaining,
            &link,
        )
    })
    .await?;
    Ok(())
}

/// Marks an alert as sent, if no one else did; true when this call should send it.
pub(super) async fn claim_alert(
    txn: &impl ConnectionTrait,
    g: &grant::Model,
    column: grant::Column,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    let updated = grant::Entity::update_many()
        .col_expr(column, sea_orm::sea_query::Expr::value(now))
        .filter(grant::Column::Id.eq(g.id))
        .filter(column.is_null())
        .exec(txn)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Tells the team once when a grant's use crosses 80 % and again at 100 %.
pub(super) async fn usage_alerts(
    txn: &impl ConnectionTrait,
    settings: &crate::state::Settings,
    g: &grant::Model,
    r: &resource::Model,
    now: DateTime<Utc>,
) -> AppResult<()> {
    let pct = g.used_percent();
    for (threshold, column, sent, event) in [
        (
            100,
            grant::Column::Alerted100At,
            g.alerted_100_at,
            "used_100",
        ),
        (80, grant::Column::Alerted80At, g.alerted_80_at, "used_80"),
    ] {
        if pct >= threshold && sent.is_none() && claim_alert(txn, g, column, now).await? {
            tell_team(txn, settings, g, r, event).await?;
            // At 100 % the 80 % alert would say less, later: mark it sent too.
            if threshold == 100 && g.alerted_80_at.is_none() {
                claim_alert(txn, g, grant::Column::Alerted80At, now).await?;
            }
            break;
        }
    }
    Ok(())
}

/// The scheduled pass: tells each team once, 14 days before an active grant ends.
pub async fn expiry_alerts(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    now: DateTime<Utc>,
) -> AppResult<usize> {
    let due = grant::Entity::find()
        .filter(grant::Column::Status.eq(GrantStatus::Active))
        .filter(grant::Column::AlertedExpiryAt.is_null())
        .filter(grant::Column::ValidUntil.gt(now))
        .filter(grant::Column::ValidUntil.lte(now + chrono::Duration::days(14)))
        .limit(500)
        .all(db)
        .await?;
    let mut sent = 0;
    for g in due {
        let txn = crate::txn::begin(db).await?;
        let (g, r) = load(&txn, g.id).await?;
        if claim_alert(&txn, &g, grant::Column::AlertedExpiryAt, now).await? {
            tell_team(&txn, settings, &g, &r, "expiring").await?;
            sent += 1;
        }
        txn.commit().await?;
    }
    Ok(sent)
}
