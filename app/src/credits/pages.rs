//! GPU credit pages: resources, grants and their ledger, the sync queue (admins), and a
//! startup's own credit (applicants).
use super::server_fns::{
    drift_report, get_grant_detail, get_grant_form_options, get_resource, get_startup_credit,
    ledger_entries, list_grants, list_resources, list_sync_jobs, my_credit, AdjustGrant,
    CreateGrant, GrantTransition, RepairDrift, RetrySyncJob, SaveResource,
};
use super::{
    format_gpu_hours, GrantRow, GrantStatus, LedgerKind, ResourceView, SyncStatus, BACKENDS,
    GRANT_COLUMNS, LEDGER_COLUMNS, SYNC_COLUMNS,
};
use crate::components::{
    action_error, data_version, format_time, mutation, param_id, ErrorBanner, ErrorPage, Form,
    Pager, SelectField, Submit, TextArea, TextField,
};
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::tables::{FilterSelect, SortTh, TableFilters, TablePager, TableQuery};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn hours(minutes: i64) -> String {
    format_gpu_hours(minutes)
}

/// A grant's remaining balance over its validity, as a step line, with the forecast dashed
/// from today to where the last 14 days' burn rate takes it. Drawn on the server as SVG.
#[component]
pub fn BurnDownChart(burn: super::BurnDown) -> impl IntoView {
    let locale = use_locale();
    const W: f64 = 640.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 64.0;
    const BOTTOM: f64 = 24.0;
    const TOP: f64 = 10.0;
    let now = burn.as_of;
    let start = burn
        .valid_from
        .min(burn.points.first().map(|p| p.0).unwrap_or(burn.valid_from));
    let end = burn
        .valid_until
        .max(now.min(burn.valid_until + chrono::Duration::days(7)));
    let span = (end - start).num_seconds().max(1) as f64;
    let peak = burn.peak_minutes.max(1) as f64;
    let x = move |t: chrono::DateTime<chrono::Utc>| {
        LEFT + ((t - start).num_seconds() as f64 / span).clamp(0.0, 1.0) * (W - LEFT - 8.0)
    };
    let y = move |m: i64| TOP + (1.0 - (m.max(0) as f64 / peak).min(1.0)) * (H - TOP - BOTTOM);
    // Written in place: a chart has up to a few hundred points.
    use std::fmt::Write as _;
    let mut path = String::with_capacity(burn.points.len() * 26 + 16);
    let mut last: Option<i64> = None;
    for (t, b) in &burn.points {
        let px = x(*t);
        let _ = match last {
            None => write!(path, "M{px:.1},{:.1}", y(*b)),
            Some(prev) => write!(path, " L{px:.1},{:.1} L{px:.1},{:.1}", y(prev), y(*b)),
        };
        last = Some(*b);
    }
    if let Some(b) = last {
        let _ = write!(path, " L{:.1},{:.1}", x(now.min(burn.valid_until)), y(b));
    }
    let forecast = (burn.burn_per_day > 0 && burn.remaining_minutes > 0).then(|| {
        let until = burn.exhausts_at.unwrap_or(burn.valid_until);
        let days = (until - now).num_minutes() as f64 / 1440.0;
        let left = burn.remaining_minutes - (burn.burn_per_day as f64 * days) as i64;
        format!(
            "M{:.1},{:.1} L{:.1},{:.1}",
            x(now),
            y(burn.remaining_minutes),
            x(until),
            y(left)
        )
    });
    let summary = if burn.burn_per_day == 0 {
        locale.t("burn.idle")
    } else {
        let rate = format_gpu_hours(burn.burn_per_day);
        match burn.exhausts_at {
            Some(t) => locale.t_with(
                "burn.runs_out",
                &[
                    ("rate", &rate),
                    ("date", &crate::components::format_day(&t)),
                ],
            ),
            None => locale.t_with("burn.lasts", &[("rate", &rate)]),
        }
    };
    let label = locale.t_with(
        "burn.label",
        &[("hours", &format_gpu_hours(burn.remaining_minutes))],
    );
    let peak_label = locale.t_with(
        "units.gpu_hours_short",
        &[("hours", &format_gpu_hours(burn.peak_minutes))],
    );
    let today = x(now);
    view! {
        <figure class="chart" data-testid="burn-down" data-exhausts=burn.exhausts_at.map(|t| crate::components::format_day(&t))>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=label preserveAspectRatio="xMidYMid meet">
                <line x1=LEFT y1=TOP x2=LEFT y2=H - BOTTOM class="axis"/>
                <line x1=LEFT y1=H - BOTTOM x2=W - 8.0 y2=H - BOTTOM class="axis"/>
                <text x=LEFT - 6.0 y=TOP + 10.0 text-anchor="end" class="tick">{peak_label}</text>
                <text x=LEFT - 6.0 y=H - BOTTOM text-anchor="end" class="tick">"0"</text>
                <text x=LEFT y=H - 6.0 class="tick">{crate::components::format_day(&start)}</text>
                <text x=W - 8.0 y=H - 6.0 text-anchor="end" class="tick">{crate::components::format_day(&burn.valid_until)}</text>
                {(today > LEFT && today < W - 8.0).then(|| view! { <line x1=today y1=TOP x2=today y2=H - BOTTOM class="today"/> })}
                <path d=path class="balance"/>
                {forecast.map(|d| view! { <path d=d class="forecast"/> })}
            </svg>
            <figcaption>{summary}</figcaption>
        </figure>
    }
}

fn page_param() -> Memo<u64> {
    let q = use_query_map();
    Memo::new(move |_| q.with(|q| q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0)))
}

#[component]
fn SyncPill(sync: Option<super::SyncState>) -> impl IntoView {
    let locale = use_locale();
    let state = sync.as_ref().map(|s| s.status.as_str()).unwrap_or("none");
    let title = sync.and_then(|s| s.last_error).unwrap_or_default();
    view! {
        <span class=format!("pill sync-{state}") data-sync=state title=title>
            {locale.t(&format!("sync.status_{state}"))}
        </span>
    }
}

#[component]
fn ResourceForm(r: ResourceView) -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<SaveResource>();
    let backend = r.backend.clone();
    let repair = r.repair_mode.clone();
    let dialect = if r.dialect.is_empty() {
        "auto".to_string()
    } else {
        r.dialect.clone()
    };
    view! {
        <Form action class="form">
            <input type="hidden" name="id" value=r.id/>
            <TextField label=locale.t("resources.name") name="name" value=r.name.clone()/>
            <TextField label=locale.t("resources.gpu_model") name="gpu_model" value=r.gpu_model.clone() hint=locale.t("resources.gpu_model_hint")/>
            <div class="field">
                <label for="f-backend">{locale.t("resources.backend")}</label>
                <select id="f-backend" name="backend">
                    {BACKENDS.iter().map(|b| view! {
                        <option value=*b selected=*b == backend>{locale.t(&format!("resources.backend_{b}"))}</option>
                    }).collect_view()}
                </select>
            </div>
            <TextField label=locale.t("resources.cluster") name="cluster" value=r.cluster.clone() hint=locale.t("resources.cluster_hint")/>
            <TextField label=locale.t("resources.base_url") name="base_url" kind="url" value=r.base_url.clone() hint=locale.t("resources.base_url_hint")/>
            <TextField
                label=locale.t("resources.secret")
                name="secret"
                kind="password"
                hint=locale.t(if r.has_secret { "resources.secret_kept" } else { "resources.secret_hint" })
            />
            <div class="field">
                <label for="f-dialect">{locale.t("resources.dialect")}</label>
                <select id="f-dialect" name="dialect">
                    {["auto", "v0038", "v0042", "v0043", "v0044"].into_iter().map(|d| view! {
                        <option value=d selected=d == dialect>{locale.t(&format!("resources.dialect_{d}"))}</option>
                    }).collect_view()}
                </select>
                <small class="hint">{locale.t("resources.dialect_hint")}</small>
            </div>
            <TextField label=locale.t("resources.token_file") name="token_file" value=r.token_file.clone() hint=locale.t("resources.token_file_hint")/>
            <TextField label=locale.t("resources.token_user") name="token_user" value=r.token_user.clone() hint=locale.t("resources.token_user_hint")/>
            <TextField label=locale.t("resources.parent_account") name="parent_account" value=r.parent_account.clone() hint=locale.t("resources.parent_account_hint")/>
            <div class="field">
                <label for="f-enforcement">{locale.t("resources.enforcement")}</label>
                <select id="f-enforcement" name="enforcement" aria-describedby="f-enforcement-hint">
                    <option value="qos" selected=r.enforcement != "association">{locale.t("resources.enforcement_qos")}</option>
                    <option value="association" selected=r.enforcement == "association">{locale.t("resources.enforcement_association")}</option>
                </select>
                <small class="hint" id="f-enforcement-hint">{locale.t("resources.enforcement_hint")}</small>
            </div>
            <TextField
                label=locale.t("resources.account_pattern")
                name="account_pattern"
                value=if r.account_pattern.is_empty() { "startup-{id}".to_string() } else { r.account_pattern.clone() }
                hint=locale.t("resources.account_pattern_hint")
            />
            <div class="field">
                <label for="f-repair_mode">{locale.t("resources.repair_mode")}</label>
                <select id="f-repair_mode" name="repair_mode">
                    <option value="approve" selected=repair != "auto">{locale.t("resources.repair_approve")}</option>
                    <option value="auto" selected=repair == "auto">{locale.t("resources.repair_auto")}</option>
                </select>
            </div>
            <Submit testid="save-resource">{locale.t("form.save")}</Submit>
        </Form>
    }
}

#[component]
pub fn ResourcesPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(data_version, |_| list_resources());
    view! {
        <h1>{locale.t("resources.title")}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) => view! {
                        <div class="split">
                            <section class="card">
                                {list.is_empty().then(|| view! { <p class="empty">{locale.t("resources.none")}</p> })}
                                <div class="table-scroll" tabindex="0"><table class="data">
                                    <thead><tr>
                                        <th>{locale.t("resources.name")}</th>
                                        <th>{locale.t("resources.gpu_model")}</th>
                                        <th>{locale.t("resources.backend")}</th>
                                        <th>{locale.t("resources.cluster")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|r| view! {
                                            <tr data-resource=r.id>
                                                <td><a href=format!("/admin/resources/{}", r.id)>{r.name}</a></td>
                                                <td>{r.gpu_model}</td>
                                                <td>{locale.t(&format!("resources.backend_{}", r.backend))}</td>
                                                <td>{r.cluster}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                            </section>
                            <section class="card">
                                <h2>{locale.t("resources.new_title")}</h2>
                                <ResourceForm r=ResourceView { backend: "slurm".into(), repair_mode: "approve".into(), ..Default::default() }/>
                            </section>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn EditResourcePage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let data = Resource::new(
        move || (id.get(), data_version()),
        |(id, _)| get_resource(id),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(r) => view! {
                        <p class="meta"><a href="/admin/resources">{locale.t("resources.back")}</a></p>
                        <section class="card narrow wide">
                            <h1>{r.name.clone()}</h1>
                            <p class="actions"><a class="button secondary" href=format!("/admin/resources/{}/drift", r.id) data-testid="drift-link">{locale.t("drift.open")}</a></p>
                            <ResourceForm r/>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GrantsTable(
    rows: Vec<GrantRow>,
    #[prop(default = true)] link: bool,
    /// The admin list's view: its headers sort the list.
    #[prop(optional)]
    query: Option<TableQuery>,
) -> impl IntoView {
    let locale = use_locale();
    let th = move |key: &'static str, label: &'static str| match query.clone() {
        Some(query) => {
            view! { <SortTh path="/admin/grants" query columns=GRANT_COLUMNS key/> }.into_any()
        }
        None => view! { <th>{locale.t(label)}</th> }.into_any(),
    };
    view! {
        <div class="table-scroll" tabindex="0"><table class="data">
            <thead><tr>
                {th("startup", "grants.startup")}
                <th>{locale.t("grants.resource")}</th>
                {th("status", "outbox.status")}
                {th("granted", "grants.granted")}
                {th("consumed", "grants.consumed")}
                {th("remaining", "grants.remaining")}
                {th("until", "grants.valid_until")}
                <th>{locale.t("grants.sync")}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|g| {
                    let name = g.startup_name.clone();
                    view! {
                        <tr data-grant=g.id>
                            <td>{if link { view! { <a href=format!("/admin/grants/{}", g.id)>{name}</a> }.into_any() } else { view! { <span>{name}</span> }.into_any() }}</td>
                            <td>{format!("{} ({})", g.resource_name, g.gpu_model)}</td>
                            <td><span class=format!("pill grant-{}", g.status)>{locale.t(&format!("grants.status_{}", g.status))}</span></td>
                            <td class="num">{hours(g.granted_minutes + g.adjusted_minutes)}</td>
                            <td class="num">{hours(g.consumed_minutes)}</td>
                            <td class="num" data-testid="remaining">{hours(g.remaining_minutes)}</td>
                            <td>{format_time(&g.valid_until)}</td>
                            <td><SyncPill sync=g.sync.clone()/></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

/// A grant's tranches: the milestone that releases each, its GPU-hours and its state.
#[component]
fn TranchesTable(rows: Vec<crate::startups::incubation::TrancheRow>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="table-scroll" tabindex="0"><table class="data" data-testid="tranches">
            <thead><tr>
                <th>{locale.t("tranches.milestone")}</th>
                <th>{locale.t("milestones.due_on")}</th>
                <th class="num">{locale.t("tranches.hours")}</th>
                <th>{locale.t("outbox.status")}</th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|t| view! {
                    <tr data-tranche=t.id data-tranche-status=t.status.as_str()>
                        <td>{t.milestone_title}</td>
                        <td>{t.due_on.format("%Y-%m-%d").to_string()}</td>
                        <td class="num">{hours(t.minutes)}</td>
                        <td>
                            <span class=format!("pill tranche-{}", t.status)>{locale.t(&format!("tranches.status_{}", t.status))}</span>
                            {t.released_at.map(|at| view! { " " <small class="hint">{format_time(&at)}</small> })}
                        </td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

/// The resources as a table's filter offers them. Without them (an error the table itself
/// reports) the filter offers only "all".
fn resource_options(list: Result<Vec<ResourceView>, AppError>) -> Vec<(String, String)> {
    list.unwrap_or_default()
        .into_iter()
        .map(|r| (r.id.to_string(), format!("{} ({})", r.name, r.gpu_model)))
        .collect()
}

/// The admin's grants: search by startup, filter by state and resource, sort, a page at a
/// time, CSV of the filtered rows.
#[component]
pub fn GrantsPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(crate::tables::query_from));
    let data = Resource::new(
        move || (query.get(), data_version()),
        |(q, _)| list_grants(q),
    );
    let resources = Resource::new(|| (), |_| list_resources());
    const PATH: &str = "/admin/grants";
    view! {
        <div class="title-row">
            <h1>{locale.t("grants.title")}</h1>
            <a class="button" href="/admin/grants/new" data-testid="new-grant">{locale.t("grants.new_title")}</a>
        </div>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let q = query.get();
                let resources = resource_options(resources.await);
                let statuses = GrantStatus::ALL
                    .iter()
                    .map(|k| (k.to_string(), locale.t(&format!("grants.status_{k}"))))
                    .collect::<Vec<_>>();
                view! {
                    <TableFilters path=PATH csv="/admin/grants.csv" query=q.clone() search_label=locale.t("grants.search")>
                        <FilterSelect name="status" label=locale.t("outbox.status") value=q.status.clone() options=statuses/>
                        <FilterSelect name="of" label=locale.t("grants.resource") value=q.of.clone() options=resources/>
                    </TableFilters>
                }
            })}
        </Transition>
        <section class="card">
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(p) => {
                            let q = query.get_untracked();
                            view! {
                                {p.rows.is_empty().then(|| view! { <p class="empty">{locale.t("grants.none")}</p> })}
                                <GrantsTable rows=p.rows query=q.clone()/>
                                <TablePager path=PATH query=q page=p.page more=p.more keys=p.keys/>
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

/// Issuing a grant: first the startup (searched by name, or given by `?startup=` from its
/// page), then the amount, validity, reason and optional tranches.
#[component]
pub fn NewGrantPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let choice = Memo::new(move |_| {
        params.with(|p| {
            (
                p.get("startup")
                    .and_then(|s| s.parse::<i64>().ok())
                    .unwrap_or(0),
                p.get("q").unwrap_or_default(),
            )
        })
    });
    let options = Resource::new(
        move || choice.get(),
        |(startup, q)| get_grant_form_options(startup, q),
    );
    let create = mutation::<CreateGrant>();
    view! {
        <p class="meta"><a href="/admin/grants">{locale.t("grants.back")}</a></p>
        <h1>{locale.t("grants.new_title")}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match options.await {
                    Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(o) => match o.startup.clone() {
                        None => view! { <ChooseStartup q=choice.get_untracked().1 matches=o.matches/> }.into_any(),
                        Some((startup_id, name)) => view! {
                            <section class="card">
                                <p class="lead">{locale.t("grants.startup")} ": " <strong data-testid="grant-startup">{name}</strong>
                                    " · " <a href="/admin/grants/new">{locale.t("grants.other_startup")}</a></p>
                                <Form action=create class="form">
                                    <input type="hidden" name="startup_id" value=startup_id/>
                                    <SelectField
                                        label=locale.t("grants.resource")
                                        name="resource_id"
                                        options=o.resources.into_iter().map(|(id, name)| (id.to_string(), name)).collect()
                                    />
                                    <TextField label=locale.t("grants.gpu_hours") name="gpu_hours" hint=locale.t("grants.gpu_hours_hint")/>
                                    <TextField label=locale.t("grants.valid_from") name="valid_from" kind="datetime-local"/>
                                    <TextField label=locale.t("grants.valid_until") name="valid_until" kind="datetime-local"/>
                                    <TextArea label=locale.t("grants.reason") name="reason" rows=2/>
                                    <TrancheFields milestones=o.milestones/>
                                    <Submit testid="create-grant">{locale.t("grants.create")}</Submit>
                                </Form>
                            </section>
                        }.into_any(),
                    },
                }
            })}
        </Transition>
    }
}

/// The first step of a new grant: find the incubating startup by name.
#[component]
fn ChooseStartup(q: String, matches: Vec<(i64, String)>) -> impl IntoView {
    let locale = use_locale();
    let searched = !q.trim().is_empty();
    view! {
        <form method="get" action="/admin/grants/new" class="card form" role="search">
            <div class="field">
                <label for="f-q">{locale.t("grants.find_startup")}</label>
                <input id="f-q" name="q" type="search" value=q maxlength="100" autofocus/>
                <small class="hint">{locale.t("grants.find_startup_hint")}</small>
            </div>
            <Submit testid="find-startup">{locale.t("grants.find")}</Submit>
        </form>
        {(searched && matches.is_empty()).then(|| view! { <p class="empty">{locale.t("grants.no_match")}</p> })}
        {(!matches.is_empty()).then(|| view! {
            <ul class="card choices" data-testid="startup-matches">
                {matches.into_iter().map(|(id, name)| view! {
                    <li><a href=format!("/admin/grants/new?startup={id}")>{name}</a></li>
                }).collect_view()}
            </ul>
        })}
    }
}

/// Up to five tranches: GPU-hours released when a milestone is signed off.
#[component]
fn TrancheFields(milestones: Vec<(i64, String)>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <fieldset class="tranche-rows">
            <legend>{locale.t("tranches.title")}</legend>
            <p class="hint">{locale.t("tranches.lead")}</p>
            {(1..=5).map(|n| {
                let milestones = milestones.clone();
                view! {
                    <div class="field-row">
                        <input
                            type="text"
                            name=format!("tranche_hours_{n}")
                            inputmode="decimal"
                            aria-label=format!("{} {n}", locale.t("tranches.hours"))
                            placeholder=locale.t("tranches.hours")
                        />
                        <select name=format!("tranche_milestone_{n}") aria-label=format!("{} {n}", locale.t("tranches.milestone"))>
                            <option value="0">{locale.t("tranches.no_milestone")}</option>
                            {milestones.into_iter().map(|(id, label)| view! { <option value=id>{label}</option> }).collect_view()}
                        </select>
                    </div>
                }
            }).collect_view()}
        </fieldset>
    }
}

#[component]
pub fn GrantPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let page = page_param();
    let data = Resource::new(
        move || (id.get(), page.get(), data_version()),
        |(id, p, _)| get_grant_detail(id, p),
    );
    let adjust = mutation::<AdjustGrant>();
    let transition = mutation::<GrantTransition>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => {
                        let g = d.grant.clone();
                        let open = g.status.is_live();
                        let moves: Vec<(GrantStatus, &'static str)> = match g.status {
                            GrantStatus::Active => vec![(GrantStatus::Suspended, "grants.suspend"), (GrantStatus::Revoked, "grants.revoke")],
                            GrantStatus::Suspended => vec![(GrantStatus::Active, "grants.resume"), (GrantStatus::Revoked, "grants.revoke")],
                            _ => vec![],
                        };
                        view! {
                            <p class="meta"><a href="/admin/grants">{locale.t("grants.back")}</a></p>
                            <h1>{format!("{} · {} ({})", g.startup_name, g.resource_name, g.gpu_model)}</h1>
                            <p class="lead">{g.reason.clone()}</p>
                            <dl class="facts card" data-testid="balance">
                                <dt>{locale.t("outbox.status")}</dt>
                                <dd><span class=format!("pill grant-{}", g.status)>{locale.t(&format!("grants.status_{}", g.status))}</span></dd>
                                <dt>{locale.t("grants.window")}</dt>
                                <dd>{format!("{} → {}", format_time(&g.valid_from), format_time(&g.valid_until))}</dd>
                                <dt>{locale.t("grants.granted")}</dt><dd>{hours(g.granted_minutes)}</dd>
                                <dt>{locale.t("grants.adjusted")}</dt><dd>{hours(g.adjusted_minutes)}</dd>
                                <dt>{locale.t("grants.consumed")}</dt><dd>{hours(g.consumed_minutes)}</dd>
                                <dt>{locale.t("grants.forfeited")}</dt><dd>{hours(g.forfeited_minutes)}</dd>
                                <dt>{locale.t("grants.remaining")}</dt><dd data-testid="remaining">{hours(g.remaining_minutes)}</dd>
                                <dt>{locale.t("grants.sync")}</dt>
                                <dd>
                                    <SyncPill sync=g.sync.clone()/>
                                    {g.sync.as_ref().and_then(|s| s.last_error.clone()).map(|e| view! { <small class="hint">{e}</small> })}
                                </dd>
                            </dl>
                            <section class="card"><BurnDownChart burn=d.burn.clone()/></section>
                            {(!d.tranches.is_empty()).then(|| view! {
                                <section class="card">
                                    <h2>{locale.t("tranches.title")}</h2>
                                    <TranchesTable rows=d.tranches.clone()/>
                                </section>
                            })}
                            {open.then(|| view! {
                                <div class="split">
                                    <section class="card">
                                        <h2>{locale.t("grants.adjust_title")}</h2>
                                        <Form action=adjust class="form" reset=true>
                                            <input type="hidden" name="id" value=g.id/>
                                            <TextField label=locale.t("grants.adjust_hours") name="gpu_hours" hint=locale.t("grants.adjust_hint")/>
                                            <TextField label=locale.t("grants.note") name="note"/>
                                            <Submit testid="adjust">{locale.t("grants.adjust")}</Submit>
                                        </Form>
                                    </section>
                                    <section class="card">
                                        <h2>{locale.t("grants.state_title")}</h2>
                                        <ErrorBanner error=action_error(transition)/>
                                        {moves.into_iter().map(|(to, label)| view! {
                                            <Form action=transition class="form compact" banner=false>
                                                <input type="hidden" name="id" value=g.id/>
                                                <input type="hidden" name="to" value=to.as_str()/>
                                                <input type="text" name="note" aria-label=locale.t("grants.note") placeholder=locale.t("grants.note")/>
                                                <Submit class=if to == GrantStatus::Revoked { "danger" } else { "secondary" } testid=format!("to-{to}")>{locale.t(label)}</Submit>
                                            </Form>
                                        }).collect_view()}
                                    </section>
                                </div>
                            })}
                            <section class="card">
                                <h2>{locale.t("ledger.title")}</h2>
                                <div class="table-scroll" tabindex="0"><table class="data" data-testid="ledger">
                                    <thead><tr>
                                        <th>{locale.t("ledger.when")}</th>
                                        <th>{locale.t("ledger.kind")}</th>
                                        <th class="num">{locale.t("ledger.hours")}</th>
                                        <th class="num">{locale.t("ledger.balance")}</th>
                                        <th>{locale.t("ledger.note")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {d.ledger.into_iter().map(|e| view! {
                                            <tr data-kind=e.kind.as_str()>
                                                <td>{format_time(&e.created_at)}</td>
                                                <td>{locale.t(&format!("ledger.{}", e.kind))}</td>
                                                <td class="num">{hours(e.minutes)}</td>
                                                <td class="num">{hours(e.balance_after)}</td>
                                                <td>{e.external_ref.clone().unwrap_or(e.note.clone())}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                                <Pager base=format!("/admin/grants/{}", g.id) page=d.page per_page=d.per_page total=d.ledger_total/>
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn SyncJobsPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(crate::tables::query_from));
    let data = Resource::new(
        move || (query.get(), data_version()),
        |(q, _)| list_sync_jobs(q),
    );
    let resources = Resource::new(|| (), |_| list_resources());
    let retry = mutation::<RetrySyncJob>();
    const PATH: &str = "/admin/sync";
    view! {
        <h1>{locale.t("sync.title")}</h1>
        <p class="hint">{locale.t("sync.lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let q = query.get();
                let resources = resource_options(resources.await);
                let states = [
                    SyncStatus::Pending,
                    SyncStatus::Running,
                    SyncStatus::Done,
                    SyncStatus::Dead,
                    SyncStatus::Superseded,
                ]
                .iter()
                .map(|k| (k.to_string(), locale.t(&format!("sync.status_{k}"))))
                .collect::<Vec<_>>();
                view! {
                    <TableFilters path=PATH csv="/admin/sync.csv" query=q.clone() search_label=locale.t("grants.search")>
                        <FilterSelect name="status" label=locale.t("outbox.status") value=q.status.clone() options=states/>
                        <FilterSelect name="of" label=locale.t("grants.resource") value=q.of.clone() options=resources/>
                    </TableFilters>
                }
            })}
        </Transition>
        <ErrorBanner error=action_error(retry)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) => {
                        let q = query.get_untracked();
                        let th = move |key: &'static str| view! { <SortTh path=PATH query=q.clone() columns=SYNC_COLUMNS key/> };
                        view! {
                            {p.rows.is_empty().then(|| view! { <p class="empty">{locale.t("sync.none")}</p> })}
                            <div class="table-scroll" tabindex="0"><table class="data card">
                                <thead><tr>
                                    {th("startup")}
                                    <th>{locale.t("grants.resource")}</th>
                                    <th class="num">{locale.t("sync.limit")}</th>
                                    {th("status")}
                                    {th("attempts")}
                                    {th("next")}
                                    <th>{locale.t("sync.error")}</th>
                                    <th></th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|j| {
                                        let dead = j.status == SyncStatus::Dead;
                                        let waiting = matches!(j.status, SyncStatus::Pending | SyncStatus::Running);
                                        view! {
                                            <tr data-job=j.id data-status=j.status.as_str()>
                                                <td>{j.startup_name}</td>
                                                <td>{j.resource_name}</td>
                                                <td class="num">{hours(j.limit_minutes)}</td>
                                                <td><span class=format!("pill sync-{}", j.status)>{locale.t(&format!("sync.status_{}", j.status))}</span></td>
                                                <td>{j.attempts}</td>
                                                <td>{waiting.then(|| format_time(&j.next_attempt_at))}</td>
                                                <td><small>{j.last_error.unwrap_or_default()}</small></td>
                                                <td>{dead.then(|| view! {
                                                    <Form action=retry banner=false>
                                                        <input type="hidden" name="id" value=j.id/>
                                                        <Submit class="small" testid="retry">{locale.t("outbox.retry")}</Submit>
                                                    </Form>
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                            <TablePager path=PATH query=query.get_untracked() page=p.page more=p.more keys=p.keys/>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// Every grant's ledger in one list (admins): by time, filtered by kind, resource and startup
/// or job, CSV of the filtered entries.
#[component]
pub fn LedgerPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(crate::tables::query_from));
    let data = Resource::new(
        move || (query.get(), data_version()),
        |(q, _)| ledger_entries(q),
    );
    let resources = Resource::new(|| (), |_| list_resources());
    const PATH: &str = "/admin/ledger";
    view! {
        <h1>{locale.t("ledger.admin_title")}</h1>
        <p class="hint">{locale.t("ledger.admin_lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let q = query.get();
                let resources = resource_options(resources.await);
                let kinds = LedgerKind::ALL
                    .iter()
                    .map(|k| (k.to_string(), locale.t(&format!("ledger.{k}"))))
                    .collect::<Vec<_>>();
                view! {
                    <TableFilters path=PATH csv="/admin/ledger.csv" query=q.clone() search_label=locale.t("ledger.search")>
                        <FilterSelect name="status" label=locale.t("ledger.kind") value=q.status.clone() options=kinds/>
                        <FilterSelect name="of" label=locale.t("grants.resource") value=q.of.clone() options=resources/>
                    </TableFilters>
                }
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) => {
                        let q = query.get_untracked();
                        view! {
                            {p.rows.is_empty().then(|| view! { <p class="empty">{locale.t("ledger.none")}</p> })}
                            <div class="table-scroll" tabindex="0"><table class="data card" data-testid="ledger-all">
                                <thead><tr>
                                    <SortTh path=PATH query=q.clone() columns=LEDGER_COLUMNS key="when"/>
                                    <th>{locale.t("grants.startup")}</th>
                                    <th>{locale.t("grants.resource")}</th>
                                    <th>{locale.t("ledger.kind")}</th>
                                    <th class="num">{locale.t("ledger.hours")}</th>
                                    <th class="num">{locale.t("ledger.balance")}</th>
                                    <th>{locale.t("ledger.note")}</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|e| view! {
                                        <tr data-entry=e.id data-kind=e.kind.as_str()>
                                            <td>{format_time(&e.created_at)}</td>
                                            <td><a href=format!("/admin/grants/{}", e.grant_id)>{e.startup_name}</a></td>
                                            <td>{e.resource_name}</td>
                                            <td>{locale.t(&format!("ledger.{}", e.kind))}</td>
                                            <td class="num">{hours(e.minutes)}</td>
                                            <td class="num">{hours(e.balance_after)}</td>
                                            <td>{e.external_ref.map(|r| format!("#{r} ")).unwrap_or_default()}{e.note}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                            <TablePager path=PATH query=q page=p.page more=p.more keys=p.keys/>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// A startup's credit on one resource: the balance of all its grants there, and their
/// burn-down and forecast taken together.
#[component]
fn ResourceCreditCard(c: super::ResourceCredit) -> impl IntoView {
    let locale = use_locale();
    let title = locale.t_with(
        "credits.on_resource",
        &[(
            "resource",
            &format!("{} ({})", c.resource_name, c.gpu_model),
        )],
    );
    view! {
        <section class="card" data-resource-credit=c.resource_id data-remaining=c.remaining_minutes>
            <h2>{title}</h2>
            <dl class="facts">
                <dt>{locale.t("credits.balance")}</dt>
                <dd data-testid="balance">{locale.t_with("credits.balance_of", &[("remaining", &hours(c.remaining_minutes)), ("granted", &hours(c.granted_minutes))])}</dd>
                <dt>{locale.t("grants.consumed")}</dt>
                <dd data-testid="consumed">{locale.t_with("units.gpu_hours_short", &[("hours", &hours(c.consumed_minutes))])}</dd>
                <dt>{locale.t("credits.grants")}</dt>
                <dd>{c.grants}</dd>
            </dl>
            <BurnDownChart burn=c.burn/>
        </section>
    }
}

/// A startup's credit on its startup page, for admins and its mentors: its grants, then each
/// resource's balance, burn-down and forecast.
#[component]
pub fn StartupCreditSection(startup_id: i64, #[prop(default = false)] link: bool) -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(data_version, move |_| get_startup_credit(startup_id));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(c) => view! {
                        <section class="card" id="credit" data-testid="startup-credit">
                            <h2>{locale.t("credits.title")}</h2>
                            {c.grants.is_empty().then(|| view! { <p class="empty">{locale.t("credits.startup_none")}</p> })}
                            {(!c.grants.is_empty()).then(|| view! { <GrantsTable rows=c.grants.clone() link/> })}
                        </section>
                        {c.resources.into_iter().map(|r| view! { <ResourceCreditCard c=r/> }).collect_view()}
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The applicant's own GPU credit.
#[component]
pub fn CreditsPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(data_version, |_| my_credit());
    view! {
        <h1>{locale.t("credits.title")}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(None) => view! { <div class="empty"><p>{locale.t("credits.no_startup")}</p></div> }.into_any(),
                    Ok(Some(c)) if c.grants.is_empty() => view! { <div class="empty"><p>{locale.t("credits.none")}</p></div> }.into_any(),
                    Ok(Some(c)) => view! {
                        <p class="lead">{c.startup_name.clone()}</p>
                        <section class="card"><GrantsTable rows=c.grants.clone() link=false/></section>
                        {(!c.tranches.is_empty()).then(|| view! {
                            <section class="card">
                                <h2>{locale.t("tranches.title")}</h2>
                                <TranchesTable rows=c.tranches.clone()/>
                            </section>
                        })}
                        {c.resources.iter().cloned().map(|r| view! { <ResourceCreditCard c=r/> }).collect_view()}
                        // A grant's own chart only where the resource has several (with one,
                        // the resource's chart is the grant's).
                        {c.burns.into_iter().zip(c.grants).filter(|(_, g)| {
                            c.resources.iter().any(|r| r.resource_id == g.resource_id && r.grants > 1)
                        }).map(|(b, g)| view! {
                            <section class="card" data-grant-burn=g.id>
                                <h2>{locale.t_with("credits.grant_on", &[("id", &g.id.to_string()), ("resource", &format!("{} ({})", g.resource_name, g.gpu_model))])}</h2>
                                <BurnDownChart burn=b/>
                            </section>
                        }).collect_view()}
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// Reconciliation: the live difference between the database and the cluster, and a button
/// that queues the repairs.
#[component]
pub fn DriftPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let data = Resource::new(
        move || (id.get(), data_version()),
        |(id, _)| drift_report(id),
    );
    let repair = mutation::<RepairDrift>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! {
                        <p class="meta"><a href=format!("/admin/resources/{}", id.get_untracked())>{locale.t("resources.back")}</a></p>
                        <ErrorPage error=e/>
                    }.into_any(),
                    Ok(d) => {
                        let repairable = d.drifts.iter().any(|x| x.startup_id.is_some());
                        let orphans = d.drifts.iter().any(|x| x.kind == "orphan");
                        view! {
                            <p class="meta"><a href=format!("/admin/resources/{}", d.resource_id)>{locale.t("resources.back")}</a></p>
                            <h1>{locale.t_with("drift.title", &[("resource", &d.resource_name)])}</h1>
                            <p class="lead" data-testid="drift-summary">{locale.t_with("drift.summary", &[("accounts", &d.accounts.to_string()), ("drifts", &d.drifts.len().to_string())])}</p>
                            <p class="hint">{locale.t(if d.repair_mode == "auto" { "drift.mode_auto" } else { "drift.mode_approve" })}</p>
                            {orphans.then(|| view! { <p class="hint" data-testid="orphan-repair">{locale.t("drift.orphan_repair")}</p> })}
                            {repairable.then(|| view! {
                                <Form action=repair class="actions">
                                    <input type="hidden" name="id" value=d.resource_id/>
                                    <Submit testid="repair">{locale.t("drift.repair")}</Submit>
                                </Form>
                            })}
                            {d.drifts.is_empty().then(|| view! { <div class="empty"><p>{locale.t("drift.none")}</p></div> })}
                            {(!d.drifts.is_empty()).then(|| view! {
                                <div class="table-scroll" tabindex="0"><table class="data card">
                                    <thead><tr>
                                        <th>{locale.t("drift.account")}</th>
                                        <th>{locale.t("drift.kind")}</th>
                                        <th>{locale.t("drift.desired")}</th>
                                        <th>{locale.t("drift.remote")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {d.drifts.into_iter().map(|x| view! {
                                            <tr data-drift=x.kind.clone()>
                                                <td><code>{x.account}</code></td>
                                                <td>
                                                    {locale.t(&format!("drift.kind_{}", x.kind))}
                                                    {(x.kind == "orphan" && x.startup_id.is_none()).then(|| view! { " " <small class="hint">{locale.t("drift.orphan_foreign")}</small> })}
                                                </td>
                                                <td class="diff-want">{x.desired}</td>
                                                <td class="diff-have">{x.remote}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                            })}
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}
