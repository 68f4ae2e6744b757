//! Statements: the list (admins: every startup's, with the form that prepares a month;
//! founders: their own once issued) and a statement's page, printable, with its jobs, its
//! three parts, its steps and (admins) the form that moves it on with its evidence.
use super::name_in;
use super::server_fns::{
    get_statement, list_statements, statement_runs, AdvanceStatement, PrepareStatements,
};
use super::statements::{
    RunStatus, StatementDetail, StatementRow, StatementStatus, STATEMENT_COLUMNS,
};
use crate::components::{
    format_time, mutation, param_id, ErrorBanner, ErrorPage, Form, PrintButton, Submit, TextField,
};
use crate::credits::{format_gpu_hours, format_yuan};
use crate::error::AppError;
use crate::i18n::{use_locale, Locale};
use crate::tables::{query_from, FilterSelect, SortTh, TableFilters, TablePager};
use chrono::Datelike;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

const PATH: &str = "/statements";

/// The last two years' months in the reader's zone, the newest first, for the month filters
/// and the forms that name a month (statements, claims).
pub(crate) fn recent_months() -> Vec<String> {
    let today = crate::time::use_zone().today();
    let index = today.year() * 12 + today.month0() as i32;
    (0..24)
        .map(|back| {
            let i = index - back;
            format!("{:04}-{:02}", i.div_euclid(12), i.rem_euclid(12) + 1)
        })
        .collect()
}

fn status_label(locale: Locale, s: StatementStatus) -> String {
    locale.t(&format!("statement.status_{s}"))
}

/// A statement's name for people: `2027-03 · DeepPark AI · Turing Cloud`, with the correction's
/// number when it is one.
fn statement_title(locale: Locale, s: &StatementRow) -> String {
    let mut t = format!("{} · {} · {}", s.period, s.startup, s.provider);
    if s.revision > 0 {
        t.push_str(" · ");
        t.push_str(&locale.t_with("statement.revision", &[("n", &s.revision.to_string())]));
    }
    t
}

/// The latest requests to prepare a month, as the worker runs them (admins).
#[component]
fn PreparationRuns() -> impl IntoView {
    let locale = use_locale();
    let runs = Resource::new(|| (), |_| statement_runs());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let runs = runs.await.unwrap_or_default();
                (!runs.is_empty()).then(|| view! {
                    <ul class="plain runs" data-testid="statement-runs">
                        {runs.into_iter().map(|r| {
                            let what = match r.status {
                                RunStatus::Pending if r.attempts == 0 => locale.t("statement.run_pending"),
                                RunStatus::Pending => locale.t_with("statement.run_retrying", &[("error", &locale.t(&r.last_error))]),
                                RunStatus::Done => locale.t_with("statement.run_done", &[
                                    ("created", &r.done.created.to_string()),
                                    ("refreshed", &r.done.refreshed.to_string()),
                                    ("unchanged", &r.done.unchanged.to_string()),
                                ]),
                                RunStatus::Dead => locale.t_with("statement.run_dead", &[("error", &locale.t(&r.last_error))]),
                            };
                            view! {
                                <li data-run=r.id data-status=r.status.as_str()>
                                    <a href=format!("/statements?of={}", r.period)>{r.period.clone()}</a>
                                    " · " {what} " "
                                    <span class="meta">{locale.t_with("statement.run_by", &[("name", &r.requested_by), ("time", &format_time(&r.requested_at))])}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })
            })}
        </Transition>
    }
}

#[component]
pub fn StatementsPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let data = Resource::new(move || query.get(), list_statements);
    let prepare = mutation::<PrepareStatements>();
    let me = crate::current_user::use_current_user().0;
    view! {
        <h1>{locale.t("statement.list_title")}</h1>
        <p class="hint">{locale.t("statement.list_lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
            let admin = matches!(me.await, Ok(Some(m)) if m.has(crate::auth::Role::Admin));
            let months = recent_months();
            let chosen = query.get_untracked().of;
            admin.then(|| view! {
                <Form action=prepare class="form compact card">
                    <div class="field">
                        <label for="f-period">{locale.t("statement.month")}</label>
                        <select id="f-period" name="period">
                            {months.into_iter().enumerate().map(|(i, m)| {
                                let selected = if chosen.is_empty() { i == 1 } else { chosen == m };
                                view! { <option value=m.clone() selected=selected>{m.clone()}</option> }
                            }).collect_view()}
                        </select>
                    </div>
                    <Submit testid="prepare-statements">{locale.t("statement.prepare")}</Submit>
                    <p class="hint">{locale.t("statement.prepare_hint")}</p>
                </Form>
                <PreparationRuns/>
            })
            })}
        </Transition>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let q = query.get();
                let months = recent_months().into_iter().map(|m| (m.clone(), m)).collect::<Vec<_>>();
                let states = StatementStatus::ALL
                    .iter()
                    .map(|s| (s.to_string(), status_label(locale, *s)))
                    .collect::<Vec<_>>();
                view! {
                    <TableFilters path=PATH csv="/statements.csv" query=q.clone() search_label=locale.t("statement.search")>
                        <FilterSelect name="of" label=locale.t("statement.month") value=q.of.clone() options=months/>
                        <FilterSelect name="status" label=locale.t("statement.status") value=q.status.clone() options=states/>
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
                            {p.rows.is_empty().then(|| view! { <p class="empty">{locale.t("statement.none")}</p> })}
                            <div class="table-scroll" tabindex="0"><table class="data card" data-testid="statements">
                                <thead><tr>
                                    <SortTh path=PATH query=q.clone() columns=STATEMENT_COLUMNS key="id"/>
                                    <th>{locale.t("statement.month")}</th>
                                    <th>{locale.t("grants.startup")}</th>
                                    <th>{locale.t("statement.provider")}</th>
                                    <th>{locale.t("statement.status")}</th>
                                    <th class="num">{locale.t("statement.jobs")}</th>
                                    <th class="num">{locale.t("statement.amount")}</th>
                                    <th class="num">{locale.t("statement.park")}</th>
                                    <th class="num">{locale.t("statement.subsidy")}</th>
                                    <th class="num">{locale.t("statement.own")}</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|s| view! {
                                        <tr data-statement=s.id data-status=s.status.as_str()>
                                            <td><a href=format!("/statements/{}", s.id)>{format!("#{}", s.id)}</a></td>
                                            <td>{s.period.clone()}{(s.revision > 0).then(|| format!(" · r{}", s.revision))}</td>
                                            <td>{s.startup.clone()}</td>
                                            <td>{s.provider.clone()}</td>
                                            <td><span class=format!("pill {}", s.status)>{status_label(locale, s.status)}</span></td>
                                            <td class="num">{s.jobs}</td>
                                            <td class="num">{format_yuan(s.amount_fen)}</td>
                                            <td class="num">{format_yuan(s.park_fen)}</td>
                                            <td class="num">{format_yuan(s.subsidy_fen)}</td>
                                            <td class="num">{format_yuan(s.own_fen)}</td>
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

#[component]
pub fn StatementPage() -> impl IntoView {
    let id = param_id("id");
    let data = Resource::new(move || id.get(), get_statement);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => view! { <StatementView d/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StatementView(d: StatementDetail) -> impl IntoView {
    let locale = use_locale();
    let chinese = locale == Locale::ZhCn;
    let s = d.statement.clone();
    let csv = format!("/statements/{}/jobs.csv", s.id);
    view! {
        <p class="meta no-print"><a href="/statements">{locale.t("statement.back")}</a></p>
        <div class="title-row">
            <h1>{locale.t_with("statement.title", &[("id", &s.id.to_string())])}</h1>
            <span class=format!("pill {}", s.status) data-testid="statement-status">{status_label(locale, s.status)}</span>
        </div>
        <p class="lead">{statement_title(locale, &s)}</p>
        {d.corrects.map(|c| view! {
            <p class="hint">{locale.t("statement.corrects")} " " <a href=format!("/statements/{c}")>{format!("#{c}")}</a></p>
        })}
        {d.corrected_by.map(|c| view! {
            <p class="banner notice">{locale.t("statement.corrected_by")} " " <a href=format!("/statements/{c}")>{format!("#{c}")}</a></p>
        })}
        <dl class="facts card">
            <dt>{locale.t("grants.startup")}</dt>
            <dd>{s.startup.clone()} {d.startup_credit_code.clone().map(|c| format!(" ({c})"))}</dd>
            <dt>{locale.t("statement.provider")}</dt>
            <dd>{s.provider.clone()} {d.provider_credit_code.clone().map(|c| format!(" ({c})"))}</dd>
            <dt>{locale.t("statement.jobs")}</dt>
            <dd>{locale.t_count("statement.jobs_count", s.jobs, &[("hours", &format_gpu_hours(s.gpu_minutes))])}</dd>
            <dt>{locale.t("statement.amount")}</dt>
            <dd data-testid="amount">{format_yuan(s.amount_fen)}</dd>
            <dt>{locale.t("statement.park")}</dt>
            <dd data-testid="park">{format_yuan(s.park_fen)}</dd>
            {d.subsidies.iter().map(|x| view! {
                <dt>{name_in(chinese, &x.programme_en, &x.programme_zh).to_string()}</dt>
                <dd data-testid="subsidy" data-programme=x.programme_id>{format_yuan(x.amount_fen)}</dd>
            }).collect_view()}
            <dt>{locale.t("statement.own")}</dt>
            <dd data-testid="own">{format_yuan(s.own_fen)}</dd>
            <dt>{locale.t("statement.contract")}</dt>
            <dd>{if d.contract_no.is_empty() { "–".to_string() } else { d.contract_no.clone() }}
                {d.contract_date.map(|c| format!(" · {c}"))}</dd>
            <dt>{locale.t("statement.invoice")}</dt>
            <dd data-testid="invoice">{if d.invoice_no.is_empty() { "–".to_string() } else { d.invoice_no.clone() }}</dd>
            <dt>{locale.t("statement.payment")}</dt>
            <dd>{if d.payment_ref.is_empty() { "–".to_string() } else { d.payment_ref.clone() }}</dd>
        </dl>
        <section class="card">
            <h2>{locale.t("statement.steps")}</h2>
            <ol class="plain" data-testid="steps">
                {d.steps.iter().map(|st| view! {
                    <li data-status=st.status.as_str()>{status_label(locale, st.status)} " · " {st.by.clone()} " · " {format_time(&st.at)}</li>
                }).collect_view()}
            </ol>
            {(d.can_manage && d.corrected_by.is_none()).then(|| s.status.next()).flatten().map(|next| match next {
                StatementStatus::Issued | StatementStatus::Paid => view! { <NextStep id=s.id next/> }.into_any(),
                _ => view! { <p class="hint no-print">{locale.t("statement.claimed_by_claims")} " " <a href="/admin/claims">{locale.t("nav.claims")}</a></p> }.into_any(),
            })}
        </section>
        <p class="no-print actions">
            <PrintButton testid="print"/>
            <a class="button secondary" href=csv data-testid="jobs-csv" download="">{locale.t("statement.csv")}</a>
        </p>
        <section class="card">
            <h2>{locale.t("statement.lines")}</h2>
            <div class="table-scroll" tabindex="0"><table class="data" data-testid="lines">
                <thead><tr>
                    <th>{locale.t("statement.job")}</th>
                    <th>{locale.t("grants.resource")}</th>
                    <th>{locale.t("statement.ended")}</th>
                    <th class="num">{locale.t("ledger.hours")}</th>
                    <th class="num">{locale.t("statement.price")}</th>
                    <th class="num">{locale.t("statement.amount")}</th>
                    <th class="num">{locale.t("statement.park")}</th>
                    <th class="num">{locale.t("statement.subsidy")}</th>
                    <th class="num">{locale.t("statement.own")}</th>
                </tr></thead>
                <tbody>
                    {d.lines.into_iter().map(|l| view! {
                        <tr data-job=l.job_ref.clone()>
                            <td>{l.job_ref.clone()}</td>
                            <td>{l.resource.clone()}</td>
                            <td>{format_time(&l.ended_at)}</td>
                            <td class="num">{format_gpu_hours(l.gpu_minutes)}</td>
                            <td class="num">{l.fen_per_gpu_hour.map(format_yuan).unwrap_or_else(|| locale.t("statement.no_price"))}</td>
                            <td class="num">{format_yuan(l.amount_fen)}</td>
                            <td class="num">{format_yuan(l.park_fen)}</td>
                            <td class="num">{format_yuan(l.subsidy_fen)}</td>
                            <td class="num">{format_yuan(l.own_fen)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        </section>
    }
}

/// The form that moves a statement to `next`, with the evidence that step asks for.
#[component]
fn NextStep(id: i64, next: StatementStatus) -> impl IntoView {
    let locale = use_locale();
    let advance = mutation::<AdvanceStatement>();
    view! {
        <Form action=advance class="form no-print">
            <input type="hidden" name="id" value=id/>
            <input type="hidden" name="to" value=next.as_str()/>
            {(next == StatementStatus::Issued).then(|| view! {
                <TextField label=locale.t("statement.contract_no") name="contract_no"/>
                <TextField label=locale.t("statement.contract_date") name="contract_date" kind="date"/>
            })}
            {(next == StatementStatus::Paid).then(|| view! {
                <TextField label=locale.t("statement.invoice_no") name="invoice_no"/>
                <TextField label=locale.t("statement.payment_ref") name="payment_ref"/>
            })}
            <Submit testid=format!("to-{next}")>{locale.t(&format!("statement.to_{next}"))}</Submit>
        </Form>
    }
}
