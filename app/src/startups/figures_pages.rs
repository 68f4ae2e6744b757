//! A firm's figures for the park's annual report to its sponsors: the day it was registered,
//! its headcount over time and its financing rounds, with the forms that record them. Shown
//! on the team's /startup and on the firm's page for admins (who record) and mentors (who see).
use super::figures::{CompanyFigures, FinancingRound};
use super::figures_fns::{
    get_company_figures, AddFinancing, RecordHeadcount, RemoveFinancing, SetFoundedOn,
};
use crate::components::{
    action_error, format_time, mutation, ErrorBanner, Form, SelectField, Submit, TextField,
};
use crate::credits::format_yuan;
use crate::i18n::use_locale;
use leptos::prelude::*;

/// The figures of the firm the reader is on (on /startup).
#[component]
pub fn MyFiguresSection() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_company_figures(None));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.ok().flatten().map(|f| view! { <FiguresSection f mine=true/> })
            })}
        </Transition>
    }
}

/// A firm's figures, and for its team and admins the forms that record them. `mine` when it
/// is the team's own page: its forms lead back there, even for a founder who is an admin too.
#[component]
pub fn FiguresSection(f: CompanyFigures, #[prop(optional)] mine: bool) -> impl IntoView {
    let locale = use_locale();
    let founded = mutation::<SetFoundedOn>();
    let count = mutation::<RecordHeadcount>();
    let add = mutation::<AddFinancing>();
    let remove = mutation::<RemoveFinancing>();
    let id = f.startup_id;
    let edit = f.can_edit;
    let latest = f.headcounts.first().cloned();
    let raised: i64 = f.financings.iter().map(|r| r.amount_fen).sum();
    let rounds = FinancingRound::ALL
        .iter()
        .map(|r| {
            (
                r.as_str().to_string(),
                locale.t(&format!("figures.round_{r}")),
            )
        })
        .collect::<Vec<_>>();
    view! {
        <section class="card narrow wide" id="figures" data-testid="company-figures">
            <h2>{locale.t("figures.title")}</h2>
            <p class="hint">{locale.t("figures.lead")}</p>
            <dl class="facts">
                <dt>{locale.t("figures.founded_on")}</dt>
                <dd data-testid="founded-on">{f.founded_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into())}</dd>
                <dt>{locale.t("figures.employees")}</dt>
                <dd data-testid="employees">{match &latest {
                    Some(c) => locale.t_with("figures.employees_on", &[("n", &c.employees.to_string()), ("day", &c.as_of.to_string())]),
                    None => "—".into(),
                }}</dd>
                <dt>{locale.t("figures.raised")}</dt>
                <dd data-testid="raised">{locale.t_count("figures.raised_in_rounds", f.financings.len() as i64, &[("amount", &format_yuan(raised))])}</dd>
            </dl>
            {edit.then(|| view! {
                <Form action=founded class="form">
                    <input type="hidden" name="startup_id" value=id/>
                    {mine.then(|| view! { <input type="hidden" name="back" value="team"/> })}
                    <TextField label=locale.t("figures.founded_on") name="founded_on" kind="date" value=f.founded_on.map(|d| d.to_string()).unwrap_or_default() hint=locale.t("figures.founded_on_hint")/>
                    <Submit class="secondary" testid="save-founded-on">{locale.t("form.save")}</Submit>
                </Form>
            })}

            <h3>{locale.t("figures.headcount_title")}</h3>
            {f.headcounts.is_empty().then(|| view! { <p class="empty">{locale.t("figures.no_headcount")}</p> })}
            {(!f.headcounts.is_empty()).then(|| view! {
                <div class="table-scroll" tabindex="0"><table class="data" data-testid="headcounts">
                    <thead><tr>
                        <th>{locale.t("figures.as_of")}</th>
                        <th class="num">{locale.t("figures.employees")}</th>
                        <th>{locale.t("figures.recorded")}</th>
                    </tr></thead>
                    <tbody>
                        {f.headcounts.clone().into_iter().map(|c| view! {
                            <tr data-headcount=c.as_of.to_string()>
                                <td>{c.as_of.to_string()}</td>
                                <td class="num">{c.employees}</td>
                                <td class="meta">{format!("{} · {}", c.recorded_by, format_time(&c.recorded_at))}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            })}
            {edit.then(|| view! {
                <Form action=count class="form">
                    <input type="hidden" name="startup_id" value=id/>
                    {mine.then(|| view! { <input type="hidden" name="back" value="team"/> })}
                    <TextField label=locale.t("figures.as_of") name="as_of" kind="date"/>
                    <TextField label=locale.t("figures.employees") name="employees" kind="number" hint=locale.t("figures.headcount_hint")/>
                    <Submit class="secondary" testid="record-headcount">{locale.t("figures.record_headcount")}</Submit>
                </Form>
            })}

            <h3>{locale.t("figures.financing_title")}</h3>
            {f.financings.is_empty().then(|| view! { <p class="empty">{locale.t("figures.no_financing")}</p> })}
            <ErrorBanner error=action_error(remove)/>
            {(!f.financings.is_empty()).then(|| view! {
                <div class="table-scroll" tabindex="0"><table class="data" data-testid="financings">
                    <thead><tr>
                        <th>{locale.t("figures.closed_on")}</th>
                        <th>{locale.t("figures.round")}</th>
                        <th class="num">{locale.t("figures.amount")}</th>
                        <th>{locale.t("figures.investors")}</th>
                        <th>{locale.t("figures.recorded")}</th>
                        {edit.then(|| view! { <th></th> })}
                    </tr></thead>
                    <tbody>
                        {f.financings.clone().into_iter().map(|r| view! {
                            <tr data-financing=r.id>
                                <td>{r.closed_on.to_string()}</td>
                                <td>{locale.t(&format!("figures.round_{}", r.round))}</td>
                                <td class="num" data-fen=r.amount_fen>{format_yuan(r.amount_fen)}</td>
                                <td>{r.investors}</td>
                                <td class="meta">{format!("{} · {}", r.recorded_by, format_time(&r.recorded_at))}</td>
                                {edit.then(|| view! {
                                    <td>
                                        <Form action=remove banner=false row=("id", r.id)>
                                            <input type="hidden" name="id" value=r.id/>
                                            {mine.then(|| view! { <input type="hidden" name="back" value="team"/> })}
                                            <Submit class="small secondary">{locale.t("figures.remove")}</Submit>
                                        </Form>
                                    </td>
                                })}
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
            })}
            {edit.then(|| view! {
                <Form action=add class="form">
                    <input type="hidden" name="startup_id" value=id/>
                    {mine.then(|| view! { <input type="hidden" name="back" value="team"/> })}
                    <TextField label=locale.t("figures.closed_on") name="closed_on" kind="date"/>
                    <SelectField label=locale.t("figures.round") name="round" options=rounds.clone()/>
                    <TextField label=locale.t("figures.amount") name="amount" hint=locale.t("figures.amount_hint")/>
                    <TextField label=locale.t("figures.investors") name="investors"/>
                    <Submit class="secondary" testid="add-financing">{locale.t("figures.add_financing")}</Submit>
                </Form>
            })}
        </section>
    }
}
