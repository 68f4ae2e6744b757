//! Server functions for GPU credit.
// A form's fields arrive as arguments, one per input.
#![allow(clippy::too_many_arguments)]
use super::{
    GrantDetail, GrantFormOptions, GrantRow, PriceRow, ResourceView, StartupCredit, SyncJobRow,
};
use crate::error::AppError;
use crate::tables::{TablePage, TableQuery};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::auth::server_fns::ssr::{redirect_with_notice, require_actor};

#[server(prefix = "/api", endpoint = "list_resources")]
pub async fn list_resources() -> Result<Vec<ResourceView>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::resources::list(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "get_resource")]
pub async fn get_resource(id: i64) -> Result<ResourceView, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::resources::get(&state.db, &actor, id).await
}

/// Creates a resource (id 0) or updates one; returns to the list.
#[server(prefix = "/api", endpoint = "save_resource")]
pub async fn save_resource(
    #[server(default)] id: i64,
    #[server(default)] name: String,
    #[server(default)] gpu_model: String,
    #[server(default)] backend: String,
    #[server(default)] cluster: String,
    #[server(default)] account_pattern: String,
    #[server(default)] base_url: String,
    #[server(default)] secret: String,
    #[server(default)] repair_mode: String,
    #[server(default)] dialect: String,
    #[server(default)] token_file: String,
    #[server(default)] token_user: String,
    #[server(default)] parent_account: String,
    #[server(default)] enforcement: String,
    #[server(default)] domestic: String,
    #[server(default)] provider: String,
    #[server(default)] provider_credit_code: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = domain::credits::resources::ResourceInput {
        name,
        gpu_model,
        backend,
        cluster,
        account_pattern,
        base_url,
        secret,
        repair_mode,
        dialect,
        token_file,
        token_user,
        parent_account,
        enforcement,
        domestic: !domestic.is_empty(),
        provider,
        provider_credit_code,
    };
    domain::credits::resources::save(&state.db, &actor, (id > 0).then_some(id), input).await?;
    redirect_with_notice("/admin/resources", "saved");
    Ok(())
}

/// A resource's prices, the newest first.
#[server(prefix = "/api", endpoint = "resource_prices")]
pub async fn resource_prices(id: i64) -> Result<Vec<PriceRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::prices::history(&state.db, &actor, id).await
}

/// Adds a price from a day on; back to the resource's page.
#[server(prefix = "/api", endpoint = "add_price")]
pub async fn add_price(
    #[server(default)] resource_id: i64,
    #[server(default)] yuan_per_gpu_hour: String,
    #[server(default)] starts_on: String,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = domain::credits::prices::PriceInput {
        resource_id,
        yuan_per_gpu_hour,
        starts_on,
        note,
    };
    domain::credits::prices::add(&state.db, &actor, input).await?;
    redirect_with_notice(&format!("/admin/resources/{resource_id}"), "price_added");
    Ok(())
}

#[server(prefix = "/api", endpoint = "list_grants")]
pub async fn list_grants(query: TableQuery) -> Result<TablePage<GrantRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::grants::list(&state.db, &actor, &query).await
}

/// The new-grant form's choices: the chosen startup (or the incubating startups whose name
/// matches `q`), the resources, and the chosen startup's planned milestones.
#[server(prefix = "/api", endpoint = "grant_form_options")]
pub async fn get_grant_form_options(
    #[server(default)] startup: i64,
    #[server(default)] q: String,
) -> Result<GrantFormOptions, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::grants::form_options(&state.db, &actor, startup, &q).await
}

#[server(prefix = "/api", endpoint = "create_grant")]
pub async fn create_grant(
    #[server(default)] startup_id: i64,
    #[server(default)] resource_id: i64,
    #[server(default)] gpu_hours: String,
    #[server(default)] valid_from: String,
    #[server(default)] valid_until: String,
    #[server(default)] reason: String,
    #[server(default)] funding: String,
    #[server(default)] tranche_hours_1: String,
    #[server(default)] tranche_milestone_1: i64,
    #[server(default)] tranche_hours_2: String,
    #[server(default)] tranche_milestone_2: i64,
    #[server(default)] tranche_hours_3: String,
    #[server(default)] tranche_milestone_3: i64,
    #[server(default)] tranche_hours_4: String,
    #[server(default)] tranche_milestone_4: i64,
    #[server(default)] tranche_hours_5: String,
    #[server(default)] tranche_milestone_5: i64,
) -> Result<(), AppError> {
    use domain::credits::tranches::TrancheInput;
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let tranche = |gpu_hours: String, milestone_id: i64| TrancheInput {
        gpu_hours,
        milestone_id,
    };
    let input = domain::credits::grants::GrantInput {
        startup_id,
        resource_id,
        gpu_hours,
        valid_from,
        valid_until,
        reason,
        funding,
        tranches: vec![
            tranche(tranche_hours_1, tranche_milestone_1),
            tranche(tranche_hours_2, tranche_milestone_2),
            tranche(tranche_hours_3, tranche_milestone_3),
            tranche(tranche_hours_4, tranche_milestone_4),
            tranche(tranche_hours_5, tranche_milestone_5),
        ],
    };
    let id = domain::credits::grants::create(&state.db, &state.settings, &actor, input).await?;
    redirect_with_notice(&format!("/admin/grants/{id}"), "grant_created");
    Ok(())
}

#[server(prefix = "/api", endpoint = "grant_detail")]
pub async fn get_grant_detail(
    id: i64,
    #[server(default)] page: u64,
) -> Result<GrantDetail, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::grants::detail(&state.db, &actor, id, page).await
}

#[server(prefix = "/api", endpoint = "adjust_grant")]
pub async fn adjust_grant(
    id: i64,
    #[server(default)] gpu_hours: String,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::grants::adjust(&state.db, &state.settings, &actor, id, &gpu_hours, &note)
        .await?;
    redirect_with_notice(&format!("/admin/grants/{id}"), "saved");
    Ok(())
}

/// Suspend (`to=suspended`), resume (`to=active`) or revoke (`to=revoked`).
#[server(prefix = "/api", endpoint = "grant_transition")]
pub async fn grant_transition(
    id: i64,
    #[server(default)] to: String,
    #[server(default)] note: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let to = super::GrantStatus::parse(&to).ok_or(AppError::conflict("error.grant_transition"))?;
    domain::credits::grants::transition(&state.db, &state.settings, &actor, id, to, &note).await?;
    redirect_with_notice(&format!("/admin/grants/{id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "list_sync_jobs")]
pub async fn list_sync_jobs(query: TableQuery) -> Result<TablePage<SyncJobRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cluster::sync::list(&state.db, &actor, &query).await
}

#[server(prefix = "/api", endpoint = "ledger_entries")]
pub async fn ledger_entries(
    query: TableQuery,
) -> Result<TablePage<super::LedgerListRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::ledger_table::list(&state.db, &actor, &query).await
}

#[server(prefix = "/api", endpoint = "retry_sync_job")]
pub async fn retry_sync_job(id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cluster::sync::retry(&state.db, &actor, id).await?;
    redirect_with_notice("/admin/sync", "retried");
    Ok(())
}

#[server(prefix = "/api", endpoint = "my_credit")]
pub async fn my_credit() -> Result<Option<StartupCredit>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::credits::grants::my_credit(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "drift_report")]
pub async fn drift_report(id: i64) -> Result<super::DriftReport, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cluster::reconcile::report(&state.db, &actor, id).await
}

#[server(prefix = "/api", endpoint = "repair_drift")]
pub async fn repair_drift(id: i64) -> Result<usize, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let queued = domain::cluster::reconcile::approve(&state.db, &actor, id).await?;
    redirect_with_notice(&format!("/admin/resources/{id}/drift"), "repair_queued");
    Ok(queued)
}

#[server(prefix = "/api", endpoint = "my_cluster_login")]
pub async fn my_cluster_login() -> Result<Option<String>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cluster::members::cluster_login(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "set_cluster_login")]
pub async fn set_cluster_login(#[server(default)] cluster_login: String) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::cluster::members::set_cluster_login(&state.db, &actor, &cluster_login).await?;
    redirect_with_notice("/account", "saved");
    Ok(())
}
