//! Server functions for the administrator's views.
use super::{ApiTokens, AuditFilter, AuditPage};
use crate::error::AppError;
use leptos::prelude::*;

#[cfg(feature = "ssr")]
use crate::auth::server_fns::ssr::require_actor;

/// The signed-in person's dashboard figures.
#[server(prefix = "/api", endpoint = "dashboard_summary")]
pub async fn dashboard_summary() -> Result<super::DashboardSummary, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::admin::dashboard::summary(&state.db, &actor).await
}

#[server(prefix = "/api", endpoint = "audit_log")]
pub async fn audit_log(
    #[server(default)] filter: AuditFilter,
    #[server(default)] page: u64,
    #[server(default)] after: Option<i64>,
    #[server(default)] before: Option<i64>,
) -> Result<AuditPage, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let cursor = match (after, before) {
        (Some(id), _) => Some(crate::tables::Cursor::After(id)),
        (None, Some(id)) => Some(crate::tables::Cursor::Before(id)),
        (None, None) => None,
    };
    domain::admin::audit_log::list(&state.db, &actor, &filter, page, cursor).await
}

/// The cookie that carries a just-issued token back to a browser without JavaScript, for a
/// minute, on the tokens page only.
#[cfg(feature = "ssr")]
const FRESH_TOKEN_COOKIE: &str = "hatchery_new_token";

#[server(prefix = "/api", endpoint = "api_tokens")]
pub async fn get_api_tokens() -> Result<ApiTokens, AppError> {
    use crate::auth::server_fns::ssr::{cookie, parts};
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let tokens = domain::admin::tokens::list(&state.db, &actor).await?;
    let fresh = match cookie(&parts()?, FRESH_TOKEN_COOKIE) {
        Some(t) if domain::admin::tokens::just_issued(&state.db, &actor, &t).await? => Some(t),
        _ => None,
    };
    Ok(ApiTokens { tokens, fresh })
}

/// Issues a token and returns it: the page shows it once.
#[server(prefix = "/api", endpoint = "issue_api_token")]
pub async fn issue_api_token(
    #[server(default)] name: String,
    #[server(default)] scope: String,
) -> Result<String, AppError> {
    use crate::auth::server_fns::ssr::set_cookie_at;
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let (_, token) = domain::admin::tokens::issue(&state.db, &actor, &name, &scope).await?;
    set_cookie_at(FRESH_TOKEN_COOKIE, &token, "/admin/api-tokens", 60, true)?;
    Ok(token)
}

#[server(prefix = "/api", endpoint = "revoke_api_token")]
pub async fn revoke_api_token(id: i64) -> Result<(), AppError> {
    use crate::auth::server_fns::ssr::redirect_with_notice;
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    domain::admin::tokens::revoke(&state.db, &actor, id).await?;
    redirect_with_notice("/admin/api-tokens", "token_revoked");
    Ok(())
}

#[server(prefix = "/api", endpoint = "park_overview")]
pub async fn park_overview() -> Result<super::ParkOverview, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let park = state.settings.park_zone;
    domain::admin::overview::cached(&state.db, &state.sql, &state.overview, park, &actor).await
}

/// The annual report for the sponsors; an empty `year` is the park's last full year.
#[server(prefix = "/api", endpoint = "sponsor_report")]
pub async fn sponsor_report(
    #[server(default)] year: String,
) -> Result<super::sponsor::SponsorReport, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let park = state.settings.park_zone;
    let year = domain::admin::sponsor_report::parse_year(&year, park)?;
    let (report, _) = domain::admin::sponsor_report::report(&state.db, &actor, park, year).await?;
    Ok(report)
}

#[server(prefix = "/api", endpoint = "kpi_report")]
pub async fn kpi_report(from: String, to: String) -> Result<super::KpiReport, AppError> {
    let actor = require_actor().await?;
    let state = crate::state::app_state()?;
    let (from, to) = domain::admin::overview::range(&from, &to)?;
    domain::admin::overview::kpis(&state.db, &actor, state.settings.park_zone, from, to).await
}
