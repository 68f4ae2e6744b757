//! Rules of startup profiles: who may edit them, and what a valid profile is.
use super::entity::{member, startup};
use super::{CreditCode, Sector, Stage, StartupProfile};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    Set, SqlErr,
};
use serde_json::json;
use wire::auth::Role;

/// The form as submitted: plain strings, parsed here.
#[derive(Clone, Debug, Default)]
pub struct StartupInput {
    pub name: String,
    pub credit_code: String,
    pub sector: String,
    pub stage: String,
    pub team_size: String,
    pub website: String,
    pub founders: String,
}

pub(crate) struct ValidStartup {
    pub name: String,
    pub credit_code: Option<CreditCode>,
    pub sector: Sector,
    pub stage: Stage,
    pub team_size: i32,
    pub website: Option<String>,
    pub founders: String,
}

/// Every field's fault at once (see `Checks`).
pub(crate) fn validate(input: &StartupInput) -> AppResult<ValidStartup> {
    let mut checks = crate::error::Checks::new();
    let name = input.name.trim();
    checks.check(!name.is_empty(), "name", "error.startup_name_required");
    checks.check(name.chars().count() <= 200, "name", "error.too_long");
    let credit_code = match input.credit_code.trim() {
        "" => None,
        code => checks.take(CreditCode::parse(code)),
    };
    let sector = Sector::parse(input.sector.trim());
    checks.check(sector.is_some(), "sector", "error.sector_invalid");
    let stage = Stage::parse(input.stage.trim());
    checks.check(stage.is_some(), "stage", "error.stage_invalid");
    let team_size = input
        .team_size
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|n| (1..=100_000).contains(n));
    checks.check(team_size.is_some(), "team_size", "error.team_size_invalid");
    let website = match input.website.trim() {
        "" => None,
        w => {
            let ok = (w.starts_with("https://") || w.starts_with("http://"))
                && url::Url::parse(w).is_ok_and(|u| u.host_str().is_some_and(|h| h.contains('.')))
                && w.len() <= 300;
            checks.check(ok, "website", "error.website_invalid");
            Some(w.to_string())
        }
    };
    let founders = input.founders.trim();
    checks.check(!founders.is_empty(), "founders", "error.founders_required");
    checks.check(
        founders.chars().count() <= 2000,
        "founders",
        "error.too_long",
    );
    checks.finish()?;
    Ok(ValidStartup {
        name: name.into(),
        credit_code,
        sector: sector.unwrap_or(Sector::Other),
        stage: stage.unwrap_or(Stage::Idea),
        team_size: team_size.unwrap_or(1),
        website,
        founders: founders.into(),
    })
}

pub fn to_profile(s: startup::Model) -> StartupProfile {
    StartupProfile {
        id: s.id,
        name: s.name,
        credit_code: s.credit_code,
        sector: s.sector.to_string(),
        stage: s.stage.to_string(),
        team_size: s.team_size,
        website: s.website,
        founders: s.founders,
        status: s.status,
        founded_on: s.founded_on,
    }
}

/// The startup a person belongs to, if any.
pub async fn startup_of(
    db: &impl ConnectionTrait,
    user_id: i64,
) -> AppResult<Option<startup::Model>> {
    let Some(m) = member::Entity::find()
        .filter(member::Column::UserId.eq(user_id))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    Ok(startup::Entity::find_by_id(m.startup_id).one(db).await?)
}

pub async fn my_startup(
    db: &DatabaseConnection,
    actor: &Actor,
) -> AppResult<Option<StartupProfile>> {
    actor.require(Role::Applicant)?;
    Ok(startup_of(db, actor.user_id).await?.map(to_profile))
}

/// Creates the applicant's startup (they become its founder) or updates the one they are on.
pub async fn save_startup(
    db: &DatabaseConnection,
    actor: &Actor,
    input: StartupInput,
) -> AppResult<i64> {
    actor.require(Role::Applicant)?;
    let v = validate(&input)?;
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    let existing = startup_of(&txn, actor.user_id).await?;
    let after = json!({
        "name": v.name, "credit_code": v.credit_code.as_ref().map(|c| c.as_str()),
        "sector": v.sector, "stage": v.stage, "team_size": v.team_size,
        "website": v.website, "founders": v.founders,
    });
    let taken = |e: sea_orm::DbErr| match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => AppError::conflict("error.credit_code_taken"),
        _ => e.into(),
    };
    let (id, action, before) = match existing {
        Some(s) => {
            let before = json!({"name": s.name, "credit_code": s.credit_code});
            let renamed = s.name != v.name;
            let mut a: startup::ActiveModel = s.into();
            a.name = Set(v.name);
            a.credit_code = Set(v.credit_code.map(|c| c.as_str().to_string()));
            a.sector = Set(v.sector);
            a.stage = Set(v.stage);
            a.team_size = Set(v.team_size);
            a.website = Set(v.website);
            a.founders = Set(v.founders);
            a.updated_at = Set(now);
            let s = a.update(&txn).await.map_err(taken)?;
            if renamed {
                // The name is the organization of its accounts on the clusters.
                crate::cluster::members::resync_startup(&txn, s.id).await?;
            }
            (s.id, "startup.updated", Some(before))
        }
        None => {
            let s = startup::ActiveModel {
                name: Set(v.name),
                credit_code: Set(v.credit_code.map(|c| c.as_str().to_string())),
                sector: Set(v.sector),
                stage: Set(v.stage),
                team_size: Set(v.team_size),
                website: Set(v.website),
                founders: Set(v.founders),
                status: Set(crate::startups::incubation::StartupStatus::Applicant),
                created_by: Set(actor.user_id),
                created_at: Set(now),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(&txn)
            .await
            .map_err(taken)?;
            member::ActiveModel {
                startup_id: Set(s.id),
                user_id: Set(actor.user_id),
                role: Set(wire::startups::MemberRole::Founder),
                joined_at: Set(now),
            }
            .insert(&txn)
            .await?;
            (s.id, "startup.created", None)
        }
    };
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action,
            entity_type: "startup",
            entity_id: id.to_string(),
            before,
            after: Some(after),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(id)
}
