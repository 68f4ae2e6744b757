//! GPU credit pages: resources, grants and their ledger, the sync queue (admins), and a
//! startup's own credit (applicants). The imports and helpers here are shared by the three
//! parts.
mod balance;
mod cluster;
mod grants;
use super::server_fns::{
    drift_report, get_grant_detail, get_grant_form_options, get_resource, ledger_entries,
    list_grants, list_resources, list_sync_jobs, my_credit, resource_prices, AddPrice, AdjustGrant,
    CreateGrant, GrantTransition, RepairDrift, RetrySyncJob, SaveResource,
};
use super::{
    format_gpu_hours, format_yuan, BackendKind, BurnDown, DriftKind, GrantFunding, GrantRow,
    GrantStatus, LedgerKind, ResourceCredit, ResourceView, StartupCredit, SyncState, SyncStatus,
    GRANT_COLUMNS, LEDGER_COLUMNS, SYNC_COLUMNS,
};
use crate::components::{
    action_error, format_time, initial_checked, initial_value, mutation, param_id, ErrorBanner,
    ErrorPage, Form, Pager, SelectField, Submit, TextArea, TextField,
};
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::tables::{FilterSelect, SortTh, TableFilters, TablePager, TableQuery};
pub use balance::{BurnDownChart, CreditsPage, StartupCreditSection};
pub use cluster::{DriftPage, EditResourcePage, ResourcesPage, SyncJobsPage};
use grants::{resource_options, GrantsTable, TranchesTable};
pub use grants::{GrantPage, GrantsPage, LedgerPage, NewGrantPage};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn hours(minutes: i64) -> String {
    format_gpu_hours(minutes)
}

fn page_param() -> Memo<u64> {
    let q = use_query_map();
    Memo::new(move |_| q.with(|q| q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0)))
}

#[component]
fn SyncPill(sync: Option<SyncState>) -> impl IntoView {
    let locale = use_locale();
    let state = sync.as_ref().map(|s| s.status.as_str()).unwrap_or("none");
    let title = sync.and_then(|s| s.last_error).unwrap_or_default();
    view! {
        <span class=format!("pill sync-{state}") data-sync=state title=title>
            {locale.t(&format!("sync.status_{state}"))}
        </span>
    }
}
