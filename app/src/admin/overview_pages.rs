//! The admin's dashboard panel (the park at a glance, with SVG charts) and the KPI report.
use super::server_fns::{kpi_report, park_overview};
use super::{ParkOverview, ResourceCredit, RoundFunnel};
use crate::cohorts::pages::places_line;
use crate::components::{format_time, AdminOnly, ErrorBanner, ErrorPage, PrintButton, Submit};
use crate::credits::format_gpu_hours;
use crate::error::AppError;
use crate::i18n::use_locale;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Horizontal bars, one per (label, value), scaled to the largest.
#[component]
fn Bars(
    rows: Vec<(String, i64)>,
    #[prop(into)] label: String,
    testid: &'static str,
) -> impl IntoView {
    const W: f64 = 520.0;
    const ROW: f64 = 24.0;
    const LEFT: f64 = 150.0;
    let most = rows.iter().map(|r| r.1).max().unwrap_or(0).max(1) as f64;
    let h = ROW * rows.len().max(1) as f64 + 4.0;
    let bars = rows
        .into_iter()
        .enumerate()
        .map(|(i, (name, n))| {
            let y = 2.0 + ROW * i as f64;
            let w = (n as f64 / most) * (W - LEFT - 60.0);
            view! {
                <g data-bar=name.clone() data-value=n>
                    <text x=LEFT - 8.0 y=format!("{:.1}", y + 16.0) text-anchor="end" class="tick">{name.clone()}</text>
                    <rect x=LEFT y=format!("{:.1}", y + 4.0) width=format!("{w:.1}") height=ROW - 8.0 class="bar"/>
                    <text x=format!("{:.1}", LEFT + w + 6.0) y=format!("{:.1}", y + 16.0) class="tick">{n}</text>
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid=testid>
            <svg viewBox=format!("0 0 {W} {h}") role="img" aria-label=label>{bars}</svg>
        </figure>
    }
}

/// GPU-hours consumed per month as vertical bars.
#[component]
fn BurnChart(burn: Vec<(String, i64)>, zone: String) -> impl IntoView {
    let locale = use_locale();
    const W: f64 = 640.0;
    const H: f64 = 180.0;
    const BOTTOM: f64 = 22.0;
    const TOP: f64 = 16.0;
    let n = burn.len().max(1) as f64;
    let slot = (W - 16.0) / n;
    let most = burn.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
    let bars = burn
        .iter()
        .enumerate()
        .map(|(i, (month, minutes))| {
            let h = (*minutes as f64 / most) * (H - TOP - BOTTOM);
            let x = 8.0 + slot * i as f64 + slot * 0.15;
            let y = H - BOTTOM - h;
            let hours = format_gpu_hours(*minutes);
            view! {
                <g data-month=month.clone() data-minutes=*minutes>
                    <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{:.1}", slot * 0.7) height=format!("{h:.1}") class="bar"><title>{format!("{month}: {}", locale.t_with("units.gpu_hours_short", &[("hours", &hours)]))}</title></rect>
                    <text x=format!("{:.1}", x + slot * 0.35) y=H - 6.0 text-anchor="middle" class="tick">{month[5..].to_string()}</text>
                    {(*minutes > 0).then(|| view! { <text x=format!("{:.1}", x + slot * 0.35) y=format!("{:.1}", y - 3.0) text-anchor="middle" class="tick">{hours.clone()}</text> })}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="chart" data-testid="burn-per-month">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=locale.t("overview.burn")>{bars}</svg>
            <figcaption>{locale.t_with("overview.burn_caption", &[("zone", &zone)])}</figcaption>
        </figure>
    }
}

#[component]
fn Funnel(round: RoundFunnel) -> impl IntoView {
    let locale = use_locale();
    let title = crate::cohorts::pick(locale, &round.title_en, &round.title_zh).to_string();
    let rows = round
        .counts
        .into_iter()
        .map(|(s, n)| (locale.t(&format!("application.status_{s}")), n))
        .collect::<Vec<_>>();
    view! {
        <h3><a href=format!("/admin/rounds/{}/decisions", round.id)>{title.clone()}</a></h3>
        <Bars rows label=title testid="intake-funnel"/>
    }
}

#[component]
fn Credit(resources: Vec<ResourceCredit>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="table-scroll" tabindex="0"><table class="data">
            <thead><tr>
                <th>{locale.t("overview.resource")}</th>
                <th>{locale.t("overview.granted")}</th>
                <th>{locale.t("overview.consumed")}</th>
                <th>{locale.t("overview.remaining")}</th>
            </tr></thead>
            <tbody>
                {resources.into_iter().map(|r| view! {
                    <tr data-resource=r.id>
                        <td>{r.name.clone()} " " <span class="meta">{r.gpu_model.clone()}</span></td>
                        <td>{format_gpu_hours(r.granted)}</td>
                        <td><meter min="0" max=r.granted.max(1) value=r.consumed></meter> " " {format_gpu_hours(r.consumed)}</td>
                        <td data-remaining=r.remaining>{format_gpu_hours(r.remaining)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table></div>
    }
}

/// The park at a glance, on an admin's dashboard (nothing for anyone else).
#[component]
pub fn ParkOverviewPanel() -> impl IntoView {
    let data = Resource::new(|| (), |_| park_overview());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(AppError::Forbidden | AppError::Unauthenticated) => ().into_any(),
                    Err(e) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Ok(o) => view! { <OverviewView o/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn OverviewView(o: ParkOverview) -> impl IntoView {
    let locale = use_locale();
    let startups = o
        .startups
        .iter()
        .map(|(s, n)| (locale.t(&format!("incubation.status_{s}")), *n))
        .collect::<Vec<_>>();
    let cohorts = o.cohorts.clone();
    let funnels = o.rounds.clone();
    let intake = view! {
        <section class="card" data-testid="overview-intake">
            <div class="title-row"><h2>{locale.t("overview.intake")}</h2><a href="/admin/rounds">{locale.t("nav.rounds")}</a></div>
            {funnels.is_empty().then(|| view! { <p class="meta">{locale.t("overview.no_rounds")}</p> })}
            {funnels.into_iter().take(2).map(|r| view! { <Funnel round=r/> }).collect_view()}
        </section>
    }
    .into_any();
    let people = view! {
        <section class="card" data-testid="overview-startups">
            <div class="title-row"><h2>{locale.t("overview.startups")}</h2><a href="/admin/startups">{locale.t("nav.startups")}</a></div>
            <Bars rows=startups label=locale.t("overview.startups") testid="startups-by-status"/>
            <h2>{locale.t("overview.cohorts")}</h2>
            {cohorts.is_empty().then(|| view! { <p class="meta">{locale.t("cohorts.none_admin")}</p> })}
            <ul class="plain">
                {cohorts.into_iter().map(|c| view! {
                    <li data-cohort=c.id>
                        <a href=format!("/admin/cohorts/{}", c.id)>{c.title(locale)}</a> " "
                        <meter min="0" max=c.capacity value=c.taken()></meter> " "
                        <span class="meta">{places_line(locale, &c)} " · " {locale.t_with("overview.completed_n", &[("n", &c.completed.to_string())])}</span>
                    </li>
                }).collect_view()}
            </ul>
        </section>
    }
    .into_any();
    let credit = view! {
        <section class="card" data-testid="overview-credit">
            <div class="title-row"><h2>{locale.t("overview.credit")}</h2><a href="/admin/grants">{locale.t("nav.grants")}</a></div>
            <Credit resources=o.resources.clone()/>
            <h3>{locale.t("overview.burn")}</h3>
            <BurnChart burn=o.burn.clone() zone=o.park_zone.clone()/>
        </section>
    }
    .into_any();
    view! {
        <div class="title-row"><h2>{locale.t("overview.title")}</h2><span><a href="/admin/report" data-testid="kpi-link">{locale.t("report.title")}</a> " · " <a href="/admin/sponsor-report" data-testid="sponsor-link">{locale.t("sponsor.title")}</a></span></div>
        <p class="meta" data-testid="overview-as-of">{locale.t_with("overview.as_of", &[("time", &format_time(&o.as_of))])}</p>
        <div class="grid overview">{intake}{people}</div>
        {credit}
    }
}

fn default_range() -> (String, String) {
    // The server renders first; the browser hydrates with the same query, so no clock is read.
    (String::new(), String::new())
}

/// The park's key figures for a date range: printable, and as CSV.
#[component]
pub fn ReportPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let range = Memo::new(move |_| {
        query.with(|q| {
            let (f, t) = default_range();
            (q.get("from").unwrap_or(f), q.get("to").unwrap_or(t))
        })
    });
    let report = Resource::new(
        move || range.get(),
        |(from, to)| async move {
            if from.is_empty() && to.is_empty() {
                None
            } else {
                Some(kpi_report(from, to).await)
            }
        },
    );
    view! {
        <AdminOnly>
        <h1>{locale.t("report.title")}</h1>
        <p class="lead no-print">{locale.t("report.lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let result = report.await;
                // The boxes show the range the report covers (a box left empty is filled in).
                let (from, to) = match &result {
                    Some(Ok(r)) => (r.from.to_string(), r.to.to_string()),
                    _ => range.get_untracked(),
                };
                let form = view! {
                    <form method="get" action="/admin/report" class="search no-print">
                        <label for="f-from">{locale.t("audit.from")}</label>
                        <input id="f-from" type="date" name="from" value=from/>
                        <label for="f-to">{locale.t("audit.to")}</label>
                        <input id="f-to" type="date" name="to" value=to/>
                        <Submit testid="run-report">{locale.t("report.run")}</Submit>
                    </form>
                };
                let body = match result {
                    None => view! { <p class="empty">{locale.t("report.pick")}</p> }.into_any(),
                    Some(Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. }))) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Some(Err(e)) => view! { <ErrorPage error=e/> }.into_any(),
                    Some(Ok(r)) => {
                        let csv = format!("/admin/report.csv?from={}&to={}", r.from, r.to);
                        let figures = [
                            ("report.admitted", r.admitted.to_string(), "admitted"),
                            ("report.graduated", r.graduated.to_string(), "graduated"),
                            ("report.exited", r.exited.to_string(), "exited"),
                            ("report.gpu_hours_granted", format_gpu_hours(r.gpu_minutes_granted), "gpu_granted"),
                            ("report.gpu_hours_consumed", format_gpu_hours(r.gpu_minutes_consumed), "gpu_consumed"),
                            ("report.people_trained", r.people_trained.to_string(), "trained"),
                            ("report.certificates", r.certificates.to_string(), "certificates"),
                        ];
                        view! {
                            <section class="card report" data-testid="kpi-report">
                                <p class="meta">{locale.t_with("report.range", &[("from", &r.from.to_string()), ("to", &r.to.to_string()), ("zone", &r.zone)])}</p>
                                <dl class="kpis">
                                    {figures.into_iter().map(|(label, value, id)| view! {
                                        <div class="kpi" data-kpi=id><dt>{locale.t(label)}</dt><dd>{value}</dd></div>
                                    }).collect_view()}
                                </dl>
                                <p class="actions no-print">
                                    <PrintButton/>
                                    <a href=csv download data-testid="report-csv">{locale.t("audit.csv")}</a>
                                </p>
                            </section>
                        }.into_any()
                    }
                };
                view! { {form} {body} }
            })}
        </Transition>
        </AdminOnly>
    }
}
