//! The people who use Hatchery, as admins list, export and manage them.
use super::entity::{user, user_role};
use super::{EmailAddress, Password, PersonName, Role};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::auth::accounts::find_user_by_email;
use crate::auth::accounts::grant_role;
use crate::auth::accounts::insert_user;
use crate::auth::accounts::roles_of;
use crate::auth::accounts::NewUser;
use crate::auth::passwords::hash_password;
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::tables::{self, TablePage, TableQuery};
use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QuerySelect, QueryTrait,
};
use serde_json::json;

/// The users a table view selects: `status` is a role they hold, `of` is `verified` or
/// `unverified`, `q` part of their name or email; ordered by the chosen column.
pub(crate) fn users_select(query: &TableQuery) -> AppResult<tables::Sorted<user::Entity>> {
    let mut select = user::Entity::find();
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    if let Some(role) = tables::one_of(&query.status, &roles, "status")? {
        select = select.filter(
            user::Column::Id.in_subquery(
                user_role::Entity::find()
                    .select_only()
                    .column(user_role::Column::UserId)
                    .filter(user_role::Column::Role.eq(role))
                    .into_query(),
            ),
        );
    }
    match tables::one_of(&query.of, &["verified", "unverified"], "of")? {
        Some("verified") => select = select.filter(user::Column::EmailVerifiedAt.is_not_null()),
        Some(_) => select = select.filter(user::Column::EmailVerifiedAt.is_null()),
        None => {}
    }
    if let Some(pattern) = tables::search(query)? {
        select = select.filter(
            Condition::any()
                .add(tables::like(Expr::col(user::Column::Email), &pattern))
                .add(tables::like(Expr::col(user::Column::Name), &pattern)),
        );
    }
    let (column, order) = tables::sort(query, super::types::USER_COLUMNS)?;
    let by = match column.key {
        "name" => user::Column::Name,
        "email" => user::Column::Email,
        _ => user::Column::Id,
    };
    Ok(tables::order(
        select,
        Expr::col(by),
        Expr::col(user::Column::Id),
        order,
    ))
}

/// Rows for these users, with their roles (one query).
pub(crate) async fn user_rows(
    db: &impl ConnectionTrait,
    users: Vec<user::Model>,
) -> AppResult<Vec<super::types::UserRow>> {
    let roles = user_role::Entity::find()
        .filter(user_role::Column::UserId.is_in(users.iter().map(|u| u.id)))
        .all(db)
        .await?;
    Ok(users
        .into_iter()
        .map(|u| {
            let mut user_roles: Vec<Role> = roles
                .iter()
                .filter(|r| r.user_id == u.id)
                .map(|r| r.role)
                .collect();
            user_roles.sort();
            super::types::UserRow {
                id: u.id,
                email: u.email,
                name: u.name,
                roles: user_roles,
                verified: u.email_verified_at.is_some(),
                created_at: u.created_at,
            }
        })
        .collect())
}

/// One page of the admin's user list, with each user's roles (two queries, whatever the size).
pub async fn list_users(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<TablePage<super::types::UserRow>> {
    actor.require(Role::Admin)?;
    let page = tables::page(db, users_select(query)?, query).await?;
    let rows = user_rows(db, page.rows).await?;
    Ok(TablePage {
        rows,
        page: page.page,
        more: page.more,
        keys: page.keys,
    })
}

/// Every user the view selects, as CSV.
pub async fn users_csv(
    db: &DatabaseConnection,
    actor: &Actor,
    query: &TableQuery,
) -> AppResult<String> {
    actor.require(Role::Admin)?;
    let times = crate::csv::Times(actor.zone);
    let joined = times.header("joined");
    let mut out = crate::csv::line(["id", "name", "email", "roles", "verified", &joined]);
    let mut batches = tables::Batches::new(users_select(query)?);
    while let Some(batch) = batches.next(db).await? {
        for u in user_rows(db, batch).await? {
            let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
            out.push_str(&crate::csv::line([
                u.id.to_string(),
                u.name,
                u.email,
                roles.join(" "),
                u.verified.to_string(),
                times.cell(u.created_at),
            ]));
        }
    }
    Ok(out)
}

/// An admin sets exactly which roles a user holds.
pub async fn set_roles(
    db: &DatabaseConnection,
    actor: &Actor,
    user_id: i64,
    roles: &[Role],
) -> AppResult<()> {
    actor.require(Role::Admin)?;
    if user_id == actor.user_id && !roles.contains(&Role::Admin) {
        return Err(AppError::conflict("error.cannot_remove_own_admin"));
    }
    let txn = crate::txn::begin(db).await?;
    user::Entity::find_by_id(user_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let before = roles_of(&txn, user_id).await?;
    let mut after: Vec<Role> = roles.to_vec();
    after.sort();
    after.dedup();
    if before == after {
        return Ok(());
    }
    user_role::Entity::delete_many()
        .filter(user_role::Column::UserId.eq(user_id))
        .exec(&txn)
        .await?;
    let now = Utc::now();
    for role in &after {
        grant_role(&txn, user_id, *role, now).await?;
    }
    let names = |rs: &[Role]| rs.iter().map(|r| r.as_str()).collect::<Vec<_>>();
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "user.roles_changed",
            entity_type: "user",
            entity_id: user_id.to_string(),
            before: Some(json!({"roles": names(&before)})),
            after: Some(json!({"roles": names(&after)})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Creates a verified account from the command line (the first admin, typically).
pub async fn create_user(
    db: &DatabaseConnection,
    email: &str,
    name: &str,
    password: &str,
    roles: &[Role],
) -> AppResult<i64> {
    let name = PersonName::parse(name)?;
    let email = EmailAddress::parse(email)?;
    let password = Password::parse(password)?;
    if find_user_by_email(db, &email).await?.is_some() {
        return Err(AppError::conflict("error.email_taken"));
    }
    let password_hash = hash_password(&password).await?;
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    let user = insert_user(
        &txn,
        NewUser {
            email: &email,
            name: &name,
            password_hash,
            locale: Locale::En,
            verified_at: Some(now),
        },
    )
    .await?;
    for role in roles {
        grant_role(&txn, user.id, *role, now).await?;
    }
    audit::record(
        &txn,
        Change {
            actor: None,
            action: "user.created_from_cli",
            entity_type: "user",
            entity_id: user.id.to_string(),
            before: None,
            after: Some(json!({"email": user.email, "roles": roles.iter().map(|r| r.as_str()).collect::<Vec<_>>()})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(user.id)
}
