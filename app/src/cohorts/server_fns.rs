//! Server functions for training cohorts.
// A form's fields arrive as arguments, one per input.
#![allow(clippy::too_many_arguments)]
use super::{CertificateView, CohortAdmin, CohortCard, CohortDetail, MyTraining, SessionRoster};
use crate::cohorts::EnrolmentStatus;
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::HashMap;

#[cfg(feature = "ssr")]
use crate::auth::server_fns::ssr::{current_actor, redirect_with_notice, require_actor};

/// Cohorts that have not ended (anyone), or every cohort (`all`, admins).
#[server(prefix = "/api", endpoint = "list_cohorts")]
pub async fn list_cohorts(#[server(default)] all: bool) -> Result<Vec<CohortCard>, AppError> {
    let actor = current_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::views::list(
        &state.db,
        actor.as_ref().map_or(state.settings.park_zone, |a| a.zone),
        actor.as_ref(),
        all,
    )
    .await
}

/// A page of the admin's cohort table.
#[server(prefix = "/api", endpoint = "admin_cohorts")]
pub async fn admin_cohorts(
    query: crate::tables::TableQuery,
) -> Result<crate::tables::TablePage<CohortCard>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::views::admin_list(&state.db, &actor, &query).await
}

#[server(prefix = "/api", endpoint = "cohort_detail")]
pub async fn get_cohort(id: i64) -> Result<CohortDetail, AppError> {
    let actor = current_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::views::detail(&state.db, actor.as_ref(), id).await
}

#[server(prefix = "/api", endpoint = "enrol")]
pub async fn enrol(cohort_id: i64) -> Result<EnrolmentStatus, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let got =
        domain::cohorts::enrolment::enrol(&state.db, &state.settings, &actor, cohort_id).await?;
    let notice = if got == EnrolmentStatus::Enrolled {
        "enrolled"
    } else {
        "waitlisted"
    };
    redirect_with_notice(&format!("/cohorts/{cohort_id}"), notice);
    Ok(got)
}

#[server(prefix = "/api", endpoint = "withdraw_enrolment")]
pub async fn withdraw_enrolment(cohort_id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::enrolment::withdraw(&state.db, &state.settings, &actor, cohort_id).await?;
    redirect_with_notice(&format!("/cohorts/{cohort_id}"), "enrolment_withdrawn");
    Ok(())
}

#[server(prefix = "/api", endpoint = "check_in")]
pub async fn check_in(cohort_id: i64, #[server(default)] code: String) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::attendance::check_in(&state.db, &state.settings, &actor, cohort_id, &code)
        .await?;
    redirect_with_notice(&format!("/cohorts/{cohort_id}"), "checked_in");
    Ok(())
}

#[server(prefix = "/api", endpoint = "my_training")]
pub async fn get_my_training() -> Result<MyTraining, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::training::my_training(&state.db, &actor).await
}

/// Anyone, signed in or not, may check a certificate's code.
#[server(prefix = "/api", endpoint = "verify_certificate")]
pub async fn verify_certificate(code: String) -> Result<CertificateView, AppError> {
    let state = crate::state::app_state()?;
    domain::cohorts::training::verify_certificate(&state.db, &code).await
}

#[server(prefix = "/api", endpoint = "cohort_admin")]
pub async fn get_cohort_admin(id: i64) -> Result<CohortAdmin, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::views::admin_view(&state.db, &actor, id).await
}

/// Creates a cohort (id 0) or updates one, then shows it.
#[server(prefix = "/api", endpoint = "save_cohort")]
pub async fn save_cohort(
    #[server(default)] id: i64,
    #[server(default)] title_en: String,
    #[server(default)] title_zh: String,
    #[server(default)] track: String,
    #[server(default)] description_en: String,
    #[server(default)] description_zh: String,
    #[server(default)] capacity: String,
    #[server(default)] enrol_opens_at: String,
    #[server(default)] enrol_closes_at: String,
    #[server(default)] starts_on: String,
    #[server(default)] ends_on: String,
    #[server(default)] location: String,
    #[server(default)] completion_percent: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let form = super::CohortForm {
        id,
        title_en,
        title_zh,
        track,
        description_en,
        description_zh,
        capacity,
        enrol_opens_at,
        enrol_closes_at,
        starts_on,
        ends_on,
        location,
        completion_percent,
    };
    let id = domain::cohorts::commands::save(&state.db, &state.settings, &actor, form).await?;
    redirect_with_notice(&format!("/admin/cohorts/{id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "add_session")]
pub async fn add_session(
    cohort_id: i64,
    #[server(default)] starts_at: String,
    #[server(default)] ends_at: String,
    #[server(default)] topic: String,
    #[server(default)] instructor: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::commands::add_session(
        &state.db,
        &actor,
        cohort_id,
        &starts_at,
        &ends_at,
        &topic,
        &instructor,
    )
    .await?;
    redirect_with_notice(&format!("/admin/cohorts/{cohort_id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "delete_session")]
pub async fn delete_session(session_id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let cohort_id =
        domain::cohorts::commands::delete_session(&state.db, &actor, session_id).await?;
    redirect_with_notice(&format!("/admin/cohorts/{cohort_id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "admin_enrol")]
pub async fn admin_enrol(cohort_id: i64, #[server(default)] email: String) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let got = domain::cohorts::enrolment::admin_enrol(
        &state.db,
        &state.settings,
        &actor,
        cohort_id,
        &email,
    )
    .await?;
    let notice = if got == EnrolmentStatus::Enrolled {
        "person_enrolled"
    } else {
        "person_waitlisted"
    };
    redirect_with_notice(&format!("/admin/cohorts/{cohort_id}"), notice);
    Ok(())
}

#[server(prefix = "/api", endpoint = "remove_enrolment")]
pub async fn remove_enrolment(cohort_id: i64, user_id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::enrolment::remove(&state.db, &state.settings, &actor, cohort_id, user_id)
        .await?;
    redirect_with_notice(&format!("/admin/cohorts/{cohort_id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "session_roster")]
pub async fn get_session_roster(session_id: i64) -> Result<SessionRoster, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::attendance::session_roster(&state.db, &actor, session_id).await
}

/// Marks a session's roster: `roster[<user id>]` lists everyone shown, `present[<user id>]`
/// those present.
#[server(prefix = "/api", endpoint = "mark_attendance")]
pub async fn mark_attendance(
    session_id: i64,
    #[server(default)] roster: HashMap<String, String>,
    #[server(default)] present: HashMap<String, String>,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cohorts::attendance::mark(
        &state.db,
        &state.settings,
        &actor,
        session_id,
        &roster,
        &present,
    )
    .await?;
    redirect_with_notice(&format!("/admin/sessions/{session_id}"), "attendance_saved");
    Ok(())
}
