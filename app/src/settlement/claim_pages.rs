//! Claims (admins): each programme's money as it stands, the form that files a claim, every
//! claim; and a claim's page, printable, with the statements it covers, their evidence, each
//! startup's total, the job-level CSV and the form that records the sponsor's payment.
use super::claims::{ClaimDetail, ClaimStatus, ClaimsOverview, ProgrammeMoney};
use super::name_in;
use super::server_fns::{claims_overview, get_claim, FileClaim, ReimburseClaim};
use super::statement_pages::recent_months;
use crate::components::{
    format_time, mutation, param_id, ErrorPage, Form, PrintButton, Submit, TextField,
};
use crate::credits::format_yuan;
use crate::i18n::{use_locale, Locale};
use leptos::prelude::*;

fn status_label(locale: Locale, s: ClaimStatus) -> String {
    locale.t(&format!("claim.status_{s}"))
}

#[component]
pub fn ClaimsPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| claims_overview());
    view! {
        <h1>{locale.t("claim.list_title")}</h1>
        <p class="hint">{locale.t("claim.list_lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(o) => view! { <ClaimsView o/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ClaimsView(o: ClaimsOverview) -> impl IntoView {
    let locale = use_locale();
    let chinese = locale == Locale::ZhCn;
    let file = mutation::<FileClaim>();
    let months = recent_months();
    let programmes: Vec<(i64, String)> = o
        .programmes
        .iter()
        .map(|p| {
            (
                p.programme_id,
                name_in(chinese, &p.programme_en, &p.programme_zh).to_string(),
            )
        })
        .collect();
    view! {
        <div class="cards">
            {o.programmes.into_iter().map(|p| view! { <Money p/> }).collect_view()}
        </div>
        {(!programmes.is_empty()).then(|| view! {
            <section class="card">
                <h2>{locale.t("claim.file_title")}</h2>
                <p class="hint">{locale.t("claim.file_hint")}</p>
                <Form action=file class="form compact">
                    <div class="field">
                        <label for="f-programme_id">{locale.t("programme.name")}</label>
                        <select id="f-programme_id" name="programme_id">
                            {programmes.into_iter().map(|(id, name)| view! { <option value=id>{name}</option> }).collect_view()}
                        </select>
                    </div>
                    {[("from", "claim.from", 3usize), ("until", "claim.until", 1usize)].into_iter().map(|(name, label, default)| {
                        let typed = crate::components::initial_value(name, String::new());
                        view! {
                            <div class="field">
                                <label for=format!("f-{name}")>{locale.t(label)}</label>
                                <select id=format!("f-{name}") name=name>
                                    {months.iter().enumerate().map(|(i, m)| {
                                        let selected = if typed.is_empty() { i == default } else { typed == *m };
                                        view! { <option value=m.clone() selected=selected>{m.clone()}</option> }
                                    }).collect_view()}
                                </select>
                            </div>
                        }
                    }).collect_view()}
                    <Submit testid="file-claim">{locale.t("claim.file")}</Submit>
                </Form>
            </section>
        })}
        {o.claims.is_empty().then(|| view! { <p class="empty">{locale.t("claim.none")}</p> })}
        {(!o.claims.is_empty()).then(|| view! {
            <div class="table-scroll" tabindex="0"><table class="data card" data-testid="claims">
                <thead><tr>
                    <th>{locale.t("statement.number")}</th>
                    <th>{locale.t("programme.name")}</th>
                    <th>{locale.t("claim.months")}</th>
                    <th>{locale.t("statement.status")}</th>
                    <th class="num">{locale.t("claim.statements")}</th>
                    <th class="num">{locale.t("claim.total")}</th>
                    <th>{locale.t("claim.filed")}</th>
                </tr></thead>
                <tbody>
                    {o.claims.into_iter().map(|c| view! {
                        <tr data-claim=c.id data-status=c.status.as_str()>
                            <td><a href=format!("/admin/claims/{}", c.id)>{format!("#{}", c.id)}</a></td>
                            <td>{name_in(chinese, &c.programme_en, &c.programme_zh).to_string()}</td>
                            <td>{format!("{} – {}", c.period_from, c.period_until)}</td>
                            <td><span class=format!("pill {}", c.status)>{status_label(locale, c.status)}</span></td>
                            <td class="num">{c.statements}</td>
                            <td class="num">{format_yuan(c.total_fen)}</td>
                            <td>{c.filed_by.clone()} " · " {format_time(&c.filed_at)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        })}
    }
}

/// One programme's money: its pool, what is paid and claimed, and when the pool runs out.
#[component]
fn Money(p: ProgrammeMoney) -> impl IntoView {
    let locale = use_locale();
    let chinese = locale == Locale::ZhCn;
    let left = p.pool_fen.map(|pool| (pool - p.used_fen).max(0));
    view! {
        <section class="card" data-programme=p.programme_id>
            <h2>{name_in(chinese, &p.programme_en, &p.programme_zh).to_string()}</h2>
            <dl class="facts">
                <dt>{locale.t("claim.pool")}</dt>
                <dd>{p.pool_fen.map(format_yuan).unwrap_or_else(|| locale.t("programme.no_cap"))}</dd>
                <dt>{locale.t("claim.used")}</dt>
                <dd data-testid="used">{format_yuan(p.used_fen)}</dd>
                {left.map(|l| view! { <dt>{locale.t("claim.left")}</dt><dd data-testid="left">{format_yuan(l)}</dd> })}
                <dt>{locale.t("claim.claimed")}</dt>
                <dd>{format_yuan(p.claimed_fen)} " · " {locale.t("claim.reimbursed")} " " {format_yuan(p.reimbursed_fen)}</dd>
                <dt>{locale.t("claim.rate")}</dt>
                <dd>{format_yuan(p.monthly_fen)}</dd>
                <dt>{locale.t("claim.runs_out")}</dt>
                <dd data-testid="runs-out">{p.runs_out.clone().unwrap_or_else(|| locale.t("claim.not_at_this_rate"))}</dd>
            </dl>
            {(!p.companies.is_empty()).then(|| view! {
                <h3>{locale.t("claim.companies")}</h3>
                <ul class="plain">
                    {p.companies.into_iter().map(|c| view! {
                        <li>
                            <a href=format!("/startups/{}", c.startup_id)>{c.startup.clone()}</a>
                            " · " {format_yuan(c.paid_fen)}
                            {c.cap_fen.map(|cap| format!(" / {}", format_yuan(cap)))}
                        </li>
                    }).collect_view()}
                </ul>
            })}
        </section>
    }
}

#[component]
pub fn ClaimPage() -> impl IntoView {
    let id = param_id("id");
    let data = Resource::new(move || id.get(), get_claim);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => view! { <ClaimView d/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn ClaimView(d: ClaimDetail) -> impl IntoView {
    let locale = use_locale();
    let chinese = locale == Locale::ZhCn;
    let c = d.claim.clone();
    let reimburse = mutation::<ReimburseClaim>();
    let csv = format!("/admin/claims/{}/jobs.csv", c.id);
    view! {
        <p class="meta no-print"><a href="/admin/claims">{locale.t("claim.back")}</a></p>
        <div class="title-row">
            <h1>{locale.t_with("claim.title", &[("id", &c.id.to_string())])}</h1>
            <span class=format!("pill {}", c.status) data-testid="claim-status">{status_label(locale, c.status)}</span>
        </div>
        <dl class="facts card">
            <dt>{locale.t("programme.name")}</dt>
            <dd>{name_in(chinese, &c.programme_en, &c.programme_zh).to_string()}</dd>
            <dt>{locale.t("programme.sponsor")}</dt>
            <dd>{d.sponsor.clone()}</dd>
            <dt>{locale.t("claim.months")}</dt>
            <dd>{format!("{} – {}", c.period_from, c.period_until)}</dd>
            <dt>{locale.t("claim.total")}</dt>
            <dd data-testid="claim-total">{format_yuan(c.total_fen)}</dd>
            <dt>{locale.t("claim.filed")}</dt>
            <dd>{c.filed_by.clone()} " · " {format_time(&c.filed_at)}</dd>
            {c.reimbursed_at.map(|at| view! {
                <dt>{locale.t("claim.reimbursed")}</dt>
                <dd>{format_time(&at)} " · " {c.sponsor_ref.clone()}</dd>
            })}
        </dl>
        <p class="no-print actions">
            <PrintButton testid="print"/>
            <a class="button secondary" href=csv data-testid="claim-csv" download="">{locale.t("claim.csv")}</a>
        </p>
        {(c.status == ClaimStatus::Filed).then(|| view! {
            <section class="card no-print">
                <h2>{locale.t("claim.reimburse_title")}</h2>
                <Form action=reimburse class="form compact">
                    <input type="hidden" name="id" value=c.id/>
                    <TextField label=locale.t("claim.sponsor_ref") name="sponsor_ref"/>
                    <Submit testid="reimburse">{locale.t("claim.reimburse")}</Submit>
                </Form>
            </section>
        })}
        <section class="card">
            <h2>{locale.t("claim.by_startup")}</h2>
            <div class="table-scroll" tabindex="0"><table class="data" data-testid="claim-startups">
                <thead><tr>
                    <th>{locale.t("grants.startup")}</th>
                    <th class="num">{locale.t("claim.statements")}</th>
                    <th class="num">{locale.t("claim.total")}</th>
                </tr></thead>
                <tbody>
                    {d.startups.into_iter().map(|s| view! {
                        <tr>
                            <td>{s.startup.clone()}</td>
                            <td class="num">{s.statements}</td>
                            <td class="num">{format_yuan(s.claimed_fen)}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        </section>
        <section class="card">
            <h2>{locale.t("claim.statements")}</h2>
            <div class="table-scroll" tabindex="0"><table class="data" data-testid="claim-statements">
                <thead><tr>
                    <th>{locale.t("statement.number")}</th>
                    <th>{locale.t("grants.startup")}</th>
                    <th>{locale.t("statement.month")}</th>
                    <th class="num">{locale.t("statement.amount")}</th>
                    <th class="num">{locale.t("claim.this_programme")}</th>
                    <th>{locale.t("statement.contract")}</th>
                    <th>{locale.t("statement.invoice")}</th>
                    <th>{locale.t("statement.payment")}</th>
                </tr></thead>
                <tbody>
                    {d.statements.into_iter().map(|s| view! {
                        <tr data-statement=s.statement_id>
                            <td><a href=format!("/statements/{}", s.statement_id)>{format!("#{}", s.statement_id)}</a></td>
                            <td>{s.startup.clone()} {s.credit_code.clone().map(|c| format!(" ({c})"))}</td>
                            <td>{s.period.clone()}</td>
                            <td class="num">{format_yuan(s.amount_fen)}</td>
                            <td class="num">{format_yuan(s.claimed_fen)}</td>
                            <td>{s.contract_no.clone()} {s.contract_date.map(|d| format!(" · {d}"))}</td>
                            <td>{s.invoice_no.clone()}</td>
                            <td>{s.payment_ref.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        </section>
    }
}
