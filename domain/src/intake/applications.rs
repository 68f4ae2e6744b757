//! Rules of applications: drafts, submission while the round is open, the freeze that follows,
//! withdrawal before a decision. Applicants only ever reach their own startup's applications.
use super::entity::{self as round, application, event};
use super::{
    ApplicationDetail, ApplicationFields, ApplicationSummary, ApplyPage, Phase, TimelineStep,
};
use crate::access::Actor;
use crate::audit::{self, Change};
use crate::error::{AppError, AppResult};
use crate::i18n::Locale;
use crate::intake::ApplicationStatus;
use crate::mail::{outbox, templates};
use crate::startups::profiles::{startup_of, to_profile};
use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    QueryOrder, Set,
};
use serde_json::json;
use wire::auth::Role;
use wire::review::AssignmentStatus;
use wire::startups::StartupProfile;

const MAX_ANSWER_CHARS: usize = 10_000;

fn fields_of(a: &application::Model) -> ApplicationFields {
    ApplicationFields {
        problem: a.problem.clone(),
        solution: a.solution.clone(),
        models_data: a.models_data.clone(),
        gpu_model: a.gpu_model.clone(),
        gpu_hours: if a.gpu_hours > 0 {
            a.gpu_hours.to_string()
        } else {
            String::new()
        },
        traction: a.traction.clone(),
        team: a.team.clone(),
    }
}

fn summary_of(a: &application::Model, r: &round::Model, locale: Locale) -> ApplicationSummary {
    ApplicationSummary {
        id: a.id,
        round_id: r.id,
        round_title: r.title(locale),
        status: a.status,
        submitted_at: a.submitted_at,
        updated_at: a.updated_at,
    }
}

async fn record_step(
    db: &impl ConnectionTrait,
    application_id: i64,
    status: ApplicationStatus,
    actor: i64,
) -> AppResult<()> {
    event::ActiveModel {
        application_id: Set(application_id),
        status: Set(status),
        actor_user_id: Set(Some(actor)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The startup an applicant applies with; without one they are sent to create it first.
async fn own_startup(
    db: &impl ConnectionTrait,
    actor: &Actor,
) -> AppResult<crate::startups::entity::startup::Model> {
    actor.require(Role::Applicant)?;
    startup_of(db, actor.user_id)
        .await?
        .ok_or_else(|| AppError::conflict("error.startup_required"))
}

pub async fn apply_page(
    db: &DatabaseConnection,
    actor: &Actor,
    round_id: i64,
    locale: Locale,
) -> AppResult<ApplyPage> {
    actor.require(Role::Applicant)?;
    let r = round::Entity::find_by_id(round_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    let startup = startup_of(db, actor.user_id).await?;
    let existing = match &startup {
        Some(s) => {
            application::Entity::find()
                .filter(application::Column::RoundId.eq(round_id))
                .filter(application::Column::StartupId.eq(s.id))
                .one(db)
                .await?
        }
        None => None,
    };
    Ok(ApplyPage {
        round_id,
        round_title: r.title(locale),
        round_description: r.description(locale),
        closes_at: r.closes_at,
        phase: Phase::at(r.opens_at, r.closes_at, Utc::now()),
        startup_name: startup.map(|s| s.name),
        fields: existing.as_ref().map(fields_of).unwrap_or_default(),
        application: existing.as_ref().map(|a| summary_of(a, &r, locale)),
    })
}

struct ParsedFields {
    fields: ApplicationFields,
    gpu_hours: i64,
}

fn parse_fields(input: ApplicationFields) -> AppResult<ParsedFields> {
    let trim = |s: &str| s.trim().to_string();
    let f = ApplicationFields {
        problem: trim(&input.problem),
        solution: trim(&input.solution),
        models_data: trim(&input.models_data),
        gpu_model: trim(&input.gpu_model),
        gpu_hours: trim(&input.gpu_hours),
        traction: trim(&input.traction),
        team: trim(&input.team),
    };
    let mut checks = crate::error::Checks::new();
    for (name, value) in [
        ("problem", &f.problem),
        ("solution", &f.solution),
        ("models_data", &f.models_data),
        ("traction", &f.traction),
        ("team", &f.team),
    ] {
        checks.check(
            value.chars().count() <= MAX_ANSWER_CHARS,
            name,
            "error.too_long",
        );
    }
    checks.check(
        f.gpu_model.chars().count() <= 64,
        "gpu_model",
        "error.too_long",
    );
    let gpu_hours = if f.gpu_hours.is_empty() {
        0
    } else {
        let hours = f
            .gpu_hours
            .parse::<i64>()
            .ok()
            .filter(|h| (1..=100_000_000).contains(h));
        checks.check(hours.is_some(), "gpu_hours", "error.gpu_hours_invalid");
        hours.unwrap_or(0)
    };
    checks.finish()?;
    Ok(ParsedFields {
        fields: f,
        gpu_hours,
    })
}

/// What a submission must have; every missing field is named at once.
fn require_complete(p: &ParsedFields) -> AppResult<()> {
    let mut checks = crate::error::Checks::new();
    for (name, value) in [
        ("problem", &p.fields.problem),
        ("solution", &p.fields.solution),
        ("models_data", &p.fields.models_data),
        ("gpu_model", &p.fields.gpu_model),
        ("team", &p.fields.team),
    ] {
        checks.check(!value.is_empty(), name, "error.field_required");
    }
    checks.check(p.gpu_hours > 0, "gpu_hours", "error.gpu_hours_invalid");
    checks.finish()
}

/// Saves the team's application to a round as a draft, or submits it (`submit`).
/// Returns the application's id.
pub async fn save_application(
    db: &DatabaseConnection,
    settings: &crate::state::Settings,
    actor: &Actor,
    round_id: i64,
    input: ApplicationFields,
    submit: bool,
) -> AppResult<i64> {
    let startup = own_startup(db, actor).await?;
    let parsed = parse_fields(input)?;
    let now = Utc::now();
    let txn = crate::txn::begin(db).await?;
    let r = round::Entity::find_by_id(round_id)
        .one(&txn)
        .await?
        .ok_or(AppError::NotFound)?;
    let phase = Phase::at(r.opens_at, r.closes_at, now);
    if phase == Phase::Closed || (submit && phase != Phase::Open) {
        return Err(AppError::invalid("round", "error.round_not_open"));
    }
    let existing = application::Entity::find()
        .filter(application::Column::RoundId.eq(round_id))
        .filter(application::Column::StartupId.eq(startup.id))
        .one(&txn)
        .await?;
    if existing
        .as_ref()
        .is_some_and(|a| a.status != ApplicationStatus::Draft)
    {
        return Err(AppError::conflict("error.application_frozen"));
    }
    if submit {
        require_complete(&parsed)?;
    }
    let f = parsed.fields;
    let mut active = match existing.clone() {
        Some(a) => a.into(),
        None => application::ActiveModel {
            round_id: Set(round_id),
            startup_id: Set(startup.id),
            created_at: Set(now),
            ..Default::default()
        },
    };
    active.problem = Set(f.problem);
    active.solution = Set(f.solution);
    active.models_data = Set(f.models_data);
    active.gpu_model = Set(f.gpu_model);
    active.gpu_hours = Set(parsed.gpu_hours);
    active.traction = Set(f.traction);
    active.team = Set(f.team);
    active.updated_at = Set(now);
    active.status = Set(if submit {
        ApplicationStatus::Submitted
    } else {
        ApplicationStatus::Draft
    });
    if submit {
        let snapshot =
            serde_json::to_string(&to_profile(startup.clone())).map_err(|_| AppError::Internal)?;
        active.profile_snapshot = Set(Some(snapshot));
        active.submitted_at = Set(Some(now));
    }
    let saved = match existing {
        Some(_) => active.update(&txn).await?,
        None => {
            let a = active.insert(&txn).await?;
            record_step(&txn, a.id, ApplicationStatus::Draft, actor.user_id).await?;
            a
        }
    };
    if submit {
        record_step(&txn, saved.id, ApplicationStatus::Submitted, actor.user_id).await?;
        let link = settings.link(&format!("/applications/{}", saved.id));
        let content = templates::application_submitted(
            actor.locale,
            &actor.name,
            &r.title(actor.locale),
            &link,
        );
        outbox::enqueue(&txn, &actor.email, &actor.name, actor.locale, &content).await?;
        crate::channels::notify::announce(
            &txn,
            wire::channels::ChannelEvent::ApplicationSubmitted,
            |l| {
                crate::channels::notify::application_submitted(l, &startup.name, &r.title(l), &link)
            },
        )
        .await?;
    }
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: if submit {
                "application.submitted"
            } else {
                "application.draft_saved"
            },
            entity_type: "application",
            entity_id: saved.id.to_string(),
            before: None,
            after: Some(json!({"round": round_id, "startup": startup.id, "status": saved.status})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(saved.id)
}

/// An application the actor may see: their own startup's (admins: any). Anyone else is told
/// it does not exist, so ids reveal nothing.
async fn visible_application(
    db: &impl ConnectionTrait,
    actor: &Actor,
    id: i64,
) -> AppResult<application::Model> {
    let a = application::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    if actor.has(Role::Admin) {
        return Ok(a);
    }
    match startup_of(db, actor.user_id).await? {
        Some(s) if s.id == a.startup_id && actor.has(Role::Applicant) => Ok(a),
        _ => Err(AppError::NotFound),
    }
}

/// Withdraws an application before any decision.
pub async fn withdraw(db: &DatabaseConnection, actor: &Actor, id: i64) -> AppResult<()> {
    let txn = crate::txn::begin(db).await?;
    let a = visible_application(&txn, actor, id).await?;
    let owns = startup_of(&txn, actor.user_id)
        .await?
        .is_some_and(|s| s.id == a.startup_id);
    if !owns {
        return Err(AppError::NotFound);
    }
    if a.status == ApplicationStatus::Withdrawn {
        return Err(AppError::conflict("error.already_withdrawn"));
    }
    if !a.status.may_withdraw() {
        return Err(AppError::conflict("error.cannot_withdraw"));
    }
    let before = a.status;
    let mut active: application::ActiveModel = a.into();
    active.status = Set(ApplicationStatus::Withdrawn);
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    record_step(&txn, id, ApplicationStatus::Withdrawn, actor.user_id).await?;
    audit::record(
        &txn,
        Change {
            actor: Some(actor.user_id),
            action: "application.withdrawn",
            entity_type: "application",
            entity_id: id.to_string(),
            before: Some(json!({"status": before})),
            after: Some(json!({"status": ApplicationStatus::Withdrawn})),
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// The team's applications, newest first (two queries).
pub async fn my_applications(
    db: &DatabaseConnection,
    actor: &Actor,
    locale: Locale,
) -> AppResult<Vec<ApplicationSummary>> {
    let Some(startup) = startup_of(db, actor.user_id).await? else {
        actor.require(Role::Applicant)?;
        return Ok(vec![]);
    };
    actor.require(Role::Applicant)?;
    let apps = application::Entity::find()
        .filter(application::Column::StartupId.eq(startup.id))
        .order_by_desc(application::Column::UpdatedAt)
        .all(db)
        .await?;
    let rounds = round::Entity::find()
        .filter(round::Column::Id.is_in(apps.iter().map(|a| a.round_id)))
        .all(db)
        .await?;
    Ok(apps
        .iter()
        .filter_map(|a| {
            rounds
                .iter()
                .find(|r| r.id == a.round_id)
                .map(|r| summary_of(a, r, locale))
        })
        .collect())
}

pub async fn application_detail(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i64,
    locale: Locale,
) -> AppResult<ApplicationDetail> {
    let a = visible_application(db, actor, id).await?;
    let r = round::Entity::find_by_id(a.round_id)
        .one(db)
        .await?
        .ok_or(AppError::NotFound)?;
    // Once submitted, everyone sees the profile as it was at submission.
    let profile: StartupProfile = match &a.profile_snapshot {
        Some(json) => serde_json::from_str(json).map_err(|_| AppError::Internal)?,
        None => crate::startups::entity::startup::Entity::find_by_id(a.startup_id)
            .one(db)
            .await?
            .map(to_profile)
            .ok_or(AppError::NotFound)?,
    };
    let timeline = event::Entity::find()
        .filter(event::Column::ApplicationId.eq(id))
        .order_by_asc(event::Column::Id)
        .all(db)
        .await?
        .into_iter()
        .map(|e| TimelineStep {
            status: e.status,
            at: e.created_at,
        })
        .collect();
    let owns = startup_of(db, actor.user_id)
        .await?
        .is_some_and(|s| s.id == a.startup_id);
    let decided = a.status.is_decided();
    // Mentors' feedback reaches the applicant with the decision; their notes never do.
    let feedback = if decided {
        use crate::review::entity::assignment;
        assignment::Entity::find()
            .filter(assignment::Column::ApplicationId.eq(a.id))
            .filter(assignment::Column::Status.eq(AssignmentStatus::Submitted))
            .order_by_asc(assignment::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|x| x.feedback_applicant)
            .filter(|f| !f.is_empty())
            .collect()
    } else {
        vec![]
    };
    Ok(ApplicationDetail {
        summary: summary_of(&a, &r, locale),
        fields: fields_of(&a),
        profile,
        timeline,
        decision_message: a.decision_message.clone(),
        feedback,
        can_withdraw: owns && a.status.may_withdraw(),
        back: if owns {
            ("/applications".into(), "applications.back".into())
        } else if actor.has(wire::auth::Role::Admin) {
            (
                format!("/admin/rounds/{}/applications", a.round_id),
                "applications.back_round".into(),
            )
        } else {
            ("/reviews".into(), "applications.back_reviews".into())
        },
    })
}

/// The translated name of a status, for emails and pages.
pub fn status_label(locale: Locale, s: ApplicationStatus) -> String {
    locale.t(&s.label_key())
}
