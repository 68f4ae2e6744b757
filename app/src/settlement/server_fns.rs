//! Server functions for funding programmes and enrolments (admins).
// A form's fields arrive as arguments, one per input.
#![allow(clippy::too_many_arguments)]
use super::{ProgrammeDetail, ProgrammeRow};
use crate::error::AppError;
use leptos::prelude::*;
use std::collections::HashMap;

#[cfg(feature = "ssr")]
use crate::auth::server_fns::ssr::{redirect_with_notice, require_actor};

#[server(prefix = "/api", endpoint = "list_programmes")]
pub async fn list_programmes() -> Result<Vec<ProgrammeRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::funding::list(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "get_programme")]
pub async fn get_programme(id: i64) -> Result<ProgrammeDetail, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::funding::detail(&state.db, &actor, id).await
}

/// Defines a programme (`id` 0) or changes one; then to its page. `excludes[<id>]=on` names
/// each programme it may not be combined with.
#[server(prefix = "/api", endpoint = "save_programme")]
pub async fn save_programme(
    #[server(default)] id: i64,
    #[server(default)] name_en: String,
    #[server(default)] name_zh: String,
    #[server(default)] sponsor_kind: String,
    #[server(default)] sponsor: String,
    #[server(default)] rate_domestic: String,
    #[server(default)] rate_other: String,
    #[server(default)] young_rate: String,
    #[server(default)] young_years: String,
    #[server(default)] cap_company_year: String,
    #[server(default)] cap_pool: String,
    #[server(default)] cap_contract: String,
    #[server(default)] valid_from: String,
    #[server(default)] valid_until: String,
    #[server(default)] region_prefix: String,
    #[server(default)] unaffiliated_provider: String,
    #[server(default)] excludes: HashMap<String, String>,
) -> Result<(), AppError> {
    use domain::settlement::funding::{self, ProgrammeInput};
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let input = ProgrammeInput {
        name_en,
        name_zh,
        sponsor_kind,
        sponsor,
        rate_domestic,
        rate_other,
        young_rate,
        young_years,
        cap_company_year,
        cap_pool,
        cap_contract,
        valid_from,
        valid_until,
        region_prefix,
        unaffiliated_provider: !unaffiliated_provider.is_empty(),
        excludes: excludes
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .filter_map(|(k, _)| k.parse().ok())
            .collect(),
    };
    let id = if id == 0 {
        funding::create(&state.db, &actor, input).await?
    } else {
        funding::update(&state.db, &actor, id, input).await?;
        id
    };
    redirect_with_notice(&format!("/admin/programmes/{id}"), "saved");
    Ok(())
}

/// Enrols a startup in a programme; back to the startup's page.
#[server(prefix = "/api", endpoint = "enrol_in_programme")]
pub async fn enrol_in_programme(
    #[server(default)] startup_id: i64,
    #[server(default)] programme_id: i64,
    #[server(default)] cap: String,
    #[server(default)] reason: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::enrolments::enrol(
        &state.db,
        &actor,
        programme_id,
        startup_id,
        &cap,
        &reason,
    )
    .await?;
    redirect_with_notice(&format!("/startups/{startup_id}"), "programme_enrolled");
    Ok(())
}

/// Ends an enrolment; back to the page it was ended from.
#[server(prefix = "/api", endpoint = "end_enrolment")]
pub async fn end_enrolment(#[server(default)] id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let programme = domain::settlement::enrolments::end(&state.db, &actor, id).await?;
    redirect_with_notice(&format!("/admin/programmes/{programme}"), "enrolment_ended");
    Ok(())
}

#[server(prefix = "/api", endpoint = "add_affiliate")]
pub async fn add_affiliate(
    #[server(default)] startup_id: i64,
    #[server(default)] credit_code: String,
    #[server(default)] affiliate_name: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::enrolments::add_affiliate(
        &state.db,
        &actor,
        startup_id,
        &credit_code,
        &affiliate_name,
    )
    .await?;
    redirect_with_notice(&format!("/startups/{startup_id}"), "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "remove_affiliate")]
pub async fn remove_affiliate(#[server(default)] id: i64) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let startup = domain::settlement::enrolments::remove_affiliate(&state.db, &actor, id).await?;
    redirect_with_notice(&format!("/startups/{startup}"), "saved");
    Ok(())
}

/// One page of statements: admins see every one, a founder their startup's once issued.
#[server(prefix = "/api", endpoint = "list_statements")]
pub async fn list_statements(
    query: crate::tables::TableQuery,
) -> Result<crate::tables::TablePage<super::statements::StatementRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::statements::list(&state.db, &actor, &query).await
}

#[server(prefix = "/api", endpoint = "get_statement")]
pub async fn get_statement(id: i64) -> Result<super::statements::StatementDetail, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::statements::detail(&state.db, &actor, id).await
}

/// Prepares a month's statements (admins); then to that month's list, with what was done.
#[server(prefix = "/api", endpoint = "prepare_statements")]
pub async fn prepare_statements(#[server(default)] period: String) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::statements::request(&state.db, &actor, &period).await?;
    redirect_with_notice(
        &format!("/statements?of={}", period.trim()),
        "statements_requested",
    );
    Ok(())
}

/// The latest requests to prepare months, with what each made (admins).
#[server(prefix = "/api", endpoint = "statement_runs")]
pub async fn statement_runs() -> Result<Vec<wire::settlement::statements::RunRow>, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::statements::runs(&state.db, &actor, 5).await
}

/// Moves a statement one step on (admins), with the evidence that step needs.
#[server(prefix = "/api", endpoint = "advance_statement")]
pub async fn advance_statement(
    id: i64,
    #[server(default)] to: String,
    #[server(default)] contract_no: String,
    #[server(default)] contract_date: String,
    #[server(default)] invoice_no: String,
    #[server(default)] payment_ref: String,
) -> Result<(), AppError> {
    use domain::settlement::statements::{advance, MoveInput};
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    advance(
        &state.db,
        &actor,
        MoveInput {
            id,
            to,
            contract_no,
            contract_date,
            invoice_no,
            payment_ref,
        },
    )
    .await?;
    redirect_with_notice(&format!("/statements/{id}"), "statement_moved");
    Ok(())
}

/// Every claim and each programme's money (admins).
#[server(prefix = "/api", endpoint = "claims_overview")]
pub async fn claims_overview() -> Result<super::claims::ClaimsOverview, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::claims::overview(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "get_claim")]
pub async fn get_claim(id: i64) -> Result<super::claims::ClaimDetail, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::claims::detail(&state.db, &actor, id).await
}

/// Files a claim for a programme's paid statements of some months (admins); then to it.
#[server(prefix = "/api", endpoint = "file_claim")]
pub async fn file_claim(
    #[server(default)] programme_id: String,
    #[server(default)] from: String,
    #[server(default)] until: String,
) -> Result<(), AppError> {
    use domain::settlement::claims::{file, ClaimInput};
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let programme_id = programme_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("programme_id", "error.programme_unknown"))?;
    let id = file(
        &state.db,
        &actor,
        ClaimInput {
            programme_id,
            from,
            until,
        },
    )
    .await?;
    redirect_with_notice(&format!("/admin/claims/{id}"), "claim_filed");
    Ok(())
}

/// Records the sponsor's payment of a claim (admins).
#[server(prefix = "/api", endpoint = "reimburse_claim")]
pub async fn reimburse_claim(
    id: i64,
    #[server(default)] sponsor_ref: String,
) -> Result<(), AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::settlement::claims::reimburse(&state.db, &actor, id, &sponsor_ref).await?;
    redirect_with_notice(&format!("/admin/claims/{id}"), "claim_reimbursed");
    Ok(())
}
