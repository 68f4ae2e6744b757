//! The annual report for the park's sponsors (/admin/sponsor-report): a year's firms, people,
//! financing, services and training in the shape of the Torch centre's incubator statistics,
//! printable, with the figures and the firms as CSV.
use super::server_fns::sponsor_report;
use super::sponsor::{figures, Figure, SponsorReport, PARTS};
use crate::components::{format_time, AdminOnly, ErrorBanner, ErrorPage, PrintButton, Submit};
use crate::credits::{format_gpu_hours, format_yuan};
use crate::error::AppError;
use crate::i18n::use_locale;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn SponsorReportPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let year = Memo::new(move |_| query.with(|q| q.get("year").unwrap_or_default()));
    let report = Resource::new(move || year.get(), sponsor_report);
    view! {
        <AdminOnly>
        <h1>{locale.t("sponsor.title")}</h1>
        <p class="lead no-print">{locale.t("sponsor.lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let result = report.await;
                let shown = match &result {
                    Ok(r) => r.year.to_string(),
                    Err(_) => year.get_untracked(),
                };
                let form = view! {
                    <form method="get" action="/admin/sponsor-report" class="search no-print">
                        <label for="f-year">{locale.t("sponsor.year")}</label>
                        <input id="f-year" type="number" name="year" min="2000" step="1" value=shown/>
                        <Submit testid="run-sponsor-report">{locale.t("report.run")}</Submit>
                    </form>
                };
                let body = match result {
                    Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(r) => view! { <ReportView r/> }.into_any(),
                };
                view! { {form} {body} }
            })}
        </Transition>
        </AdminOnly>
    }
}

#[component]
fn ReportView(r: SponsorReport) -> impl IntoView {
    let locale = use_locale();
    let all = figures(&r);
    let csv = format!("/admin/sponsor-report.csv?year={}", r.year);
    let firms_csv = format!("/admin/sponsor-report/firms.csv?year={}", r.year);
    let value = |f: Figure| match f {
        Figure::Count(n) => n.to_string(),
        Figure::Fen(fen) => format_yuan(fen),
        Figure::Minutes(m) => {
            locale.t_with("units.gpu_hours_short", &[("hours", &format_gpu_hours(m))])
        }
    };
    view! {
        <section class="card report" data-testid="sponsor-report">
            <h2>{locale.t_with("sponsor.heading", &[("year", &r.year.to_string())])}</h2>
            <p class="meta">
                {locale.t_with("sponsor.basis", &[("year", &r.year.to_string()), ("zone", &r.zone)])}
                {r.as_of.map(|t| format!(" · {}", locale.t_with("sponsor.as_of", &[("time", &format_time(&t))])))}
            </p>
            {PARTS.iter().map(|(part, label)| {
                let rows = all.iter().filter(|(p, _, _)| p == part).map(|(_, key, f)| {
                    let money = matches!(f, Figure::Fen(_));
                    view! {
                        <div class="kpi" data-figure=key.trim_start_matches("sponsor.")><dt>{locale.t(key)}</dt><dd class:money=money>{value(*f)}</dd></div>
                    }
                }).collect_view();
                view! {
                    <h3>{locale.t(label)}</h3>
                    <dl class="kpis" data-part=*part>{rows}</dl>
                }
            }).collect_view()}
            <h3>{locale.t("sponsor.programmes")}</h3>
            {r.programmes.is_empty().then(|| view! { <p class="empty">{locale.t("sponsor.no_programmes")}</p> })}
            {(!r.programmes.is_empty()).then(|| view! {
                <div class="table-scroll" tabindex="0"><table class="data" data-testid="sponsor-programmes">
                    <thead><tr>
                        <th>{locale.t("programme.name")}</th>
                        <th>{locale.t("programme.sponsor")}</th>
                        <th class="num">{locale.t("sponsor.programme_firms")}</th>
                        <th class="num">{locale.t("sponsor.programme_subsidy")}</th>
                    </tr></thead>
                    <tbody>
                        {r.programmes.iter().map(|p| view! {
                            <tr data-programme=p.programme_id>
                                <td>{crate::cohorts::pick(locale, &p.name_en, &p.name_zh).to_string()}</td>
                                <td>{p.sponsor.clone()}</td>
                                <td class="num">{p.firms}</td>
                                <td class="num" data-fen=p.subsidy_fen>{format_yuan(p.subsidy_fen)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            })}
            <p class="hint">{locale.t("sponsor.notes")}</p>
            <p class="actions no-print">
                <PrintButton/>
                <a href=csv download data-testid="sponsor-csv">{locale.t("sponsor.csv")}</a>
                <a href=firms_csv download data-testid="sponsor-firms-csv">{locale.t("sponsor.firms_csv")}</a>
            </p>
        </section>
    }
}
