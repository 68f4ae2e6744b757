//! Grants (admins): the table, issuing one (with its tranches), a grant's page with its
//! ledger and actions, and every grant's ledger in one list.
use super::*;

#[component]
pub(super) fn GrantsTable(
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
                <th>{locale.t("grants.funding")}</th>
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
                            <td data-funding=g.funding.as_str()>{locale.t(&format!("grants.funding_short_{}", g.funding))}</td>
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
pub(super) fn TranchesTable(rows: Vec<crate::startups::incubation::TrancheRow>) -> impl IntoView {
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
pub(super) fn resource_options(list: Result<Vec<ResourceView>, AppError>) -> Vec<(String, String)> {
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
    let data = Resource::new(move || query.get(), list_grants);
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
                                    <SelectField
                                        label=locale.t("grants.funding")
                                        name="funding"
                                        options=GrantFunding::ALL.iter().map(|f| (f.to_string(), locale.t(&format!("grants.funding_{f}")))).collect()
                                        hint=locale.t("grants.funding_hint")
                                    />
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
        move || (id.get(), page.get()),
        |(id, p)| get_grant_detail(id, p),
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
                                <dt>{locale.t("grants.funding")}</dt>
                                <dd data-testid="funding">{locale.t(&format!("grants.funding_{}", g.funding))}</dd>
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
                                        <Form action=adjust class="form">
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
                                            <Form action=transition class="form compact" banner=false row=("to", to.as_str())>
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

/// Every grant's ledger in one list (admins): by time, filtered by kind, resource and startup
/// or job, CSV of the filtered entries.
#[component]
pub fn LedgerPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(crate::tables::query_from));
    let data = Resource::new(move || query.get(), ledger_entries);
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
