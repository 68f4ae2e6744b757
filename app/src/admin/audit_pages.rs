//! The audit log viewer: who did what, when, with the state before and after.
use super::server_fns::audit_log;
use super::{AuditFilter, AuditRow, AUDITED_ENTITIES};
use crate::components::{format_time, ErrorBanner, ErrorPage, Submit};
use crate::error::AppError;
use crate::i18n::use_locale;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn AuditPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|q| {
            let get = |k: &str| q.get(k).unwrap_or_default();
            (
                AuditFilter {
                    actor: get("actor"),
                    entity_type: get("entity_type"),
                    entity_id: get("entity_id"),
                    action: get("action"),
                    from: get("from"),
                    to: get("to"),
                },
                q.get("page")
                    .and_then(|p| p.parse::<u64>().ok())
                    .unwrap_or(0),
                q.get("after").and_then(|p| p.parse::<i64>().ok()),
                q.get("before").and_then(|p| p.parse::<i64>().ok()),
            )
        })
    });
    let entries = Resource::new(
        move || params.get(),
        |(f, page, after, before)| audit_log(f, page, after, before),
    );
    let field = move |name: &'static str,
                      label: &'static str,
                      value: String,
                      kind: &'static str| {
        let id = format!("f-{name}");
        view! {
            <div class="field">
                <label for=id.clone()>{locale.t(label)}</label>
                <input id=id name=name type=kind value=value list=(name == "entity_type").then_some("audited-entities")/>
            </div>
        }
    };
    view! {
        <h1>{locale.t("audit.title")}</h1>
        <p class="lead">{locale.t("audit.lead")}</p>
        {move || {
            let f = params.get().0;
            view! {
                <form method="get" action="/admin/audit" class="card filters" role="search">
                    {field("actor", "audit.actor", f.actor.clone(), "search")}
                    {field("entity_type", "audit.entity_type", f.entity_type.clone(), "text")}
                    {field("entity_id", "audit.entity_id", f.entity_id.clone(), "text")}
                    {field("action", "audit.action", f.action.clone(), "text")}
                    {field("from", "audit.from", f.from.clone(), "date")}
                    {field("to", "audit.to", f.to.clone(), "date")}
                    <datalist id="audited-entities">
                        {AUDITED_ENTITIES.iter().map(|e| view! { <option value=*e></option> }).collect_view()}
                    </datalist>
                    <div class="actions">
                        <Submit testid="filter-audit">{locale.t("audit.filter")}</Submit>
                        <a href="/admin/audit">{locale.t("audit.clear")}</a>
                        <a href=format!("/admin/audit.csv?{}", f.query()) data-testid="audit-csv" rel="nofollow" download>{locale.t("audit.csv")}</a>
                    </div>
                </form>
            }
        }}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match entries.await {
                    Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(page) => {
                        let f = params.get_untracked().0;
                        let n = page.page;
                        let base = f.query();
                        // Past the first page, by the entry next to it (see `audit_log::list`).
                        let link = move |p: u64, cursor: String| {
                            let mut parts = Vec::new();
                            if !base.is_empty() { parts.push(base.clone()); }
                            if p > 0 { parts.push(format!("page={p}{cursor}")); }
                            if parts.is_empty() { "/admin/audit".to_string() } else { format!("/admin/audit?{}", parts.join("&")) }
                        };
                        let first = page.rows.first().map(|r| r.id);
                        let last = page.rows.last().map(|r| r.id);
                        let prev = (n > 0).then(|| link(n - 1, first.map(|id| format!("&before={id}")).unwrap_or_default()));
                        let next = page.more.then(|| link(n + 1, last.map(|id| format!("&after={id}")).unwrap_or_default()));
                        view! {
                            {page.rows.is_empty().then(|| view! { <p class="empty">{locale.t("audit.none")}</p> })}
                            {(!page.rows.is_empty()).then(|| view! {
                                <div class="table-scroll" tabindex="0"><table class="data card audit">
                                    <thead><tr>
                                        <th>{locale.t("audit.when")}</th>
                                        <th>{locale.t("audit.actor")}</th>
                                        <th>{locale.t("audit.action")}</th>
                                        <th>{locale.t("audit.entity")}</th>
                                        <th>{locale.t("audit.change")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.rows.into_iter().map(|r| view! { <AuditRowView r/> }).collect_view()}
                                    </tbody>
                                </table></div>
                            })}
                            <nav class="pager" aria-label=locale.t("pager.label")>
                                {prev.map(|href| view! { <a href=href rel="prev">{locale.t("pager.prev")}</a> })}
                                <span>{locale.t_with("audit.page", &[("page", &(n + 1).to_string())])}</span>
                                {next.map(|href| view! { <a href=href rel="next">{locale.t("pager.next")}</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn pretty(json: &Option<String>) -> Option<String> {
    json.as_ref().map(|s| {
        serde_json::from_str::<serde_json::Value>(s)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| s.clone())
    })
}

#[component]
fn AuditRowView(r: AuditRow) -> impl IntoView {
    let locale = use_locale();
    let who = match (&r.actor_name, &r.actor_email) {
        (Some(n), Some(e)) => format!("{n} <{e}>"),
        _ => locale.t("audit.system"),
    };
    let before = pretty(&r.before);
    let after = pretty(&r.after);
    view! {
        <tr data-audit=r.id data-action=r.action.clone()>
            <td>{format_time(&r.at)}</td>
            <td>{who}</td>
            <td><code>{r.action.clone()}</code></td>
            <td>{r.entity_type.clone()} " " <span class="meta">{format!("#{}", r.entity_id)}</span></td>
            <td>
                <details>
                    <summary>{locale.t("audit.before_after")}</summary>
                    <div class="diff">
                        <div><strong>{locale.t("audit.before")}</strong><pre>{before.unwrap_or_else(|| "–".into())}</pre></div>
                        <div><strong>{locale.t("audit.after")}</strong><pre>{after.unwrap_or_else(|| "–".into())}</pre></div>
                    </div>
                </details>
            </td>
        </tr>
    }
}
