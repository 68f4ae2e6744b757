//! The cluster side (admins): compute resources and how to reach them, the sync queue, and
//! reconciliation with its repairs.
use super::*;

#[component]
fn ResourceForm(r: ResourceView) -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<SaveResource>();
    let backend = r.backend;
    let repair = r.repair_mode;
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
                    {BackendKind::ALL.iter().map(|&b| view! {
                        <option value=b.as_str() selected=initial_value("backend", backend.as_str().to_string()) == b.as_str()>{locale.t(&format!("resources.backend_{b}"))}</option>
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
                        <option value=d selected=initial_value("dialect", dialect.clone()) == d>{locale.t(&format!("resources.dialect_{d}"))}</option>
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
            <TextField label=locale.t("resources.provider") name="provider" value=r.provider.clone() hint=locale.t("resources.provider_hint")/>
            <TextField label=locale.t("resources.provider_credit_code") name="provider_credit_code" value=r.provider_credit_code.clone() hint=locale.t("apply.optional")/>
            <label class="check">
                <input type="checkbox" name="domestic" value="on" checked=initial_checked("domestic", "on", r.domestic)/>
                {locale.t("resources.domestic")}
            </label>
            <small class="hint">{locale.t("resources.domestic_hint")}</small>
            <div class="field">
                <label for="f-repair_mode">{locale.t("resources.repair_mode")}</label>
                <select id="f-repair_mode" name="repair_mode">
                    <option value="approve" selected=initial_value("repair_mode", repair.as_str().to_string()) == "approve">{locale.t("resources.repair_approve")}</option>
                    <option value="auto" selected=initial_value("repair_mode", repair.as_str().to_string()) == "auto">{locale.t("resources.repair_auto")}</option>
                </select>
            </div>
            <Submit testid="save-resource">{locale.t("form.save")}</Submit>
        </Form>
    }
}

#[component]
pub fn ResourcesPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| list_resources());
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
                                <ResourceForm r=ResourceView::default()/>
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
    let data = Resource::new(move || id.get(), get_resource);
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
                            <ResourceForm r=r.clone()/>
                        </section>
                        <Prices resource_id=r.id/>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// A resource's prices per GPU-hour: the history (the one in force today marked) and a form
/// for a new one from a day on. A price is never edited: a new one takes over.
#[component]
fn Prices(resource_id: i64) -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), move |_| resource_prices(resource_id));
    let add = mutation::<AddPrice>();
    view! {
        <section class="card narrow wide" data-testid="prices">
            <h2>{locale.t("prices.title")}</h2>
            <p class="hint">{locale.t("prices.lead")}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">{locale.t("prices.none")}</p> }.into_any(),
                        Ok(rows) => view! {
                            <div class="table-scroll" tabindex="0"><table class="data">
                                <thead><tr>
                                    <th>{locale.t("prices.starts_on")}</th>
                                    <th class="num">{locale.t("prices.price")}</th>
                                    <th>{locale.t("prices.note")}</th>
                                    <th>{locale.t("prices.added_by")}</th>
                                </tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|p| view! {
                                        <tr data-price=p.id data-current=p.current.to_string()>
                                            <td>
                                                {p.starts_on.to_string()}
                                                {p.current.then(|| view! { " " <span class="pill">{locale.t("prices.current")}</span> })}
                                            </td>
                                            <td class="num">{format_yuan(p.fen_per_gpu_hour)}</td>
                                            <td>{p.note}</td>
                                            <td>{p.created_by} " · " {format_time(&p.created_at)}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
            <h3>{locale.t("prices.add")}</h3>
            <Form action=add class="form">
                <input type="hidden" name="resource_id" value=resource_id/>
                <TextField label=locale.t("prices.price") name="yuan_per_gpu_hour" hint=locale.t("prices.price_hint")/>
                <TextField label=locale.t("prices.starts_on") name="starts_on" kind="date"/>
                <TextField label=locale.t("prices.note") name="note" hint=locale.t("apply.optional")/>
                <Submit testid="add-price">{locale.t("prices.add")}</Submit>
            </Form>
        </section>
    }
}

#[component]
pub fn SyncJobsPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(crate::tables::query_from));
    let data = Resource::new(move || query.get(), list_sync_jobs);
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

/// Reconciliation: the live difference between the database and the cluster, and a button
/// that queues the repairs.
#[component]
pub fn DriftPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let data = Resource::new(move || id.get(), drift_report);
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
                        let orphans = d.drifts.iter().any(|x| x.kind == DriftKind::Orphan);
                        view! {
                            <p class="meta"><a href=format!("/admin/resources/{}", d.resource_id)>{locale.t("resources.back")}</a></p>
                            <h1>{locale.t_with("drift.title", &[("resource", &d.resource_name)])}</h1>
                            <p class="lead" data-testid="drift-summary">{locale.t_with("drift.summary", &[("accounts", &d.accounts.to_string()), ("drifts", &d.drifts.len().to_string())])}</p>
                            <p class="hint">{locale.t(&format!("drift.mode_{}", d.repair_mode))}</p>
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
                                            <tr data-drift=x.kind.as_str()>
                                                <td><code>{x.account}</code></td>
                                                <td>
                                                    {locale.t(&format!("drift.kind_{}", x.kind))}
                                                    {(x.kind == DriftKind::Orphan && x.startup_id.is_none()).then(|| view! { " " <small class="hint">{locale.t("drift.orphan_foreign")}</small> })}
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
