//! The admin's intake rounds: the list, and one round's settings and rubric.
use super::server_fns::{get_round_form, list_rounds, AddCriterion, RemoveCriterion, SaveRound};
use super::RoundForm;
use crate::components::{
    format_time, initial_checked, mutation, param_id, AdminOnly, ErrorPage, Form, Submit, TextArea,
    TextField,
};
use crate::i18n::use_locale;
use leptos::prelude::*;

#[component]
pub fn RoundsPage() -> impl IntoView {
    let locale = use_locale();
    let rounds = Resource::new(|| (), |_| list_rounds());
    view! {
        <div class="title-row">
            <h1>{locale.t("rounds.title")}</h1>
            <a class="button" href="/admin/rounds/new" data-testid="new-round">{locale.t("rounds.new")}</a>
        </div>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match rounds.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty"><p>{locale.t("rounds.none")}</p></div>
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <div class="table-scroll" tabindex="0"><table class="data card">
                            <thead><tr>
                                <th>{locale.t("rounds.round")}</th>
                                <th>{locale.t("rounds.opens_at")}</th>
                                <th>{locale.t("rounds.closes_at")}</th>
                                <th>{locale.t("rounds.phase")}</th>
                                <th>{locale.t("rounds.submitted")}</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|r| view! {
                                    <tr data-round=r.id>
                                        <td><a href=format!("/admin/rounds/{}", r.id)>{r.title}</a></td>
                                        <td>{format_time(&r.opens_at)}</td>
                                        <td>{format_time(&r.closes_at)}</td>
                                        <td>{locale.t(r.phase.label_key())}</td>
                                        <td>{r.submitted}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table></div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn NewRoundPage() -> impl IntoView {
    let locale = use_locale();
    view! {
        <AdminOnly>
            <section class="card narrow wide">
                <h1>{locale.t("rounds.new")}</h1>
                <RoundSettings form=RoundForm { mentors_per_application: 2, ..Default::default() }/>
            </section>
        </AdminOnly>
    }
}

#[component]
pub fn EditRoundPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let form = Resource::new(move || id.get(), get_round_form);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match form.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(f) => {
                        let round_id = f.id.unwrap_or_default();
                        let criteria = f.criteria.clone();
                        view! {
                            <p class="meta">
                                <a href="/admin/rounds">{locale.t("rounds.back")}</a> " · "
                                <a href=format!("/admin/rounds/{round_id}/applications") data-testid="round-applications">{locale.t("review.manage")}</a> " · "
                                <a href=format!("/admin/rounds/{round_id}/decisions") data-testid="round-decisions">{locale.t("decide.link")}</a>
                            </p>
                            <div class="split">
                                <section class="card">
                                    <h1>{f.title_en.clone()}</h1>
                                    <RoundSettings form=f/>
                                </section>
                                <section class="card">
                                    <Rubric round_id criteria/>
                                </section>
                            </div>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn RoundSettings(form: RoundForm) -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<SaveRound>();
    view! {
        <Form action class="form">
            {form.id.map(|id| view! { <input type="hidden" name="id" value=id/> })}
            <div class="row">
                <TextField label=locale.t("rounds.title_en") name="title_en" value=form.title_en.clone()/>
                <TextField label=locale.t("rounds.title_zh") name="title_zh" value=form.title_zh.clone()/>
            </div>
            <TextArea label=locale.t("rounds.description_en") name="description_en" value=form.description_en.clone() rows=4/>
            <TextArea label=locale.t("rounds.description_zh") name="description_zh" value=form.description_zh.clone() rows=4/>
            <div class="row">
                <TextField label=locale.t("rounds.opens_at") name="opens_at" kind="datetime-local" value=form.opens_at.clone() hint=crate::components::zone_hint()/>
                <TextField label=locale.t("rounds.closes_at") name="closes_at" kind="datetime-local" value=form.closes_at.clone() hint=crate::components::zone_hint()/>
            </div>
            <div class="row">
                <TextField label=locale.t("rounds.review_deadline") name="review_deadline" kind="datetime-local" value=form.review_deadline.clone() hint=locale.t("apply.optional")/>
                <TextField label=locale.t("rounds.mentors_per_application") name="mentors_per_application" kind="number" value=form.mentors_per_application.to_string()/>
            </div>
            <label class="check">
                <input type="checkbox" name="blind_review" value="on" checked=initial_checked("blind_review", "on", form.blind_review)/>
                {locale.t("rounds.blind_review")}
            </label>
            <small class="hint">{locale.t("rounds.blind_review_hint")}</small>
            <Submit testid="save-round">{locale.t("form.save")}</Submit>
        </Form>
    }
}

#[component]
fn Rubric(round_id: i64, criteria: Vec<super::Criterion>) -> impl IntoView {
    let locale = use_locale();
    let add = mutation::<AddCriterion>();
    let remove = mutation::<RemoveCriterion>();
    let total: i32 = criteria.iter().map(|c| c.weight).sum();
    view! {
        <h2>{locale.t("rubric.title")}</h2>
        {criteria.is_empty().then(|| view! { <p class="empty">{locale.t("rubric.none")}</p> })}
        <ol class="rubric">
            {criteria.into_iter().map(|c| {
                let share = if total > 0 { c.weight * 100 / total } else { 0 };
                view! {
                    <li data-criterion=c.id>
                        <strong>{c.name_en.clone()} " / " {c.name_zh.clone()}</strong>
                        <span class="meta">{locale.t_with("rubric.weight_of", &[("weight", &c.weight.to_string()), ("share", &share.to_string())])}</span>
                        {(!c.guidance_en.is_empty()).then(|| view! { <p class="hint">{c.guidance_en.clone()}</p> })}
                        <Form action=remove class="inline" banner=false>
                            <input type="hidden" name="id" value=c.id/>
                            <Submit class="ghost small">{locale.t("rubric.remove")}</Submit>
                        </Form>
                    </li>
                }
            }).collect_view()}
        </ol>
        <h3>{locale.t("rubric.add")}</h3>
        <Form action=add class="form">
            <input type="hidden" name="round_id" value=round_id/>
            <TextField label=locale.t("rubric.name_en") name="name_en"/>
            <TextField label=locale.t("rubric.name_zh") name="name_zh"/>
            <TextField label=locale.t("rubric.guidance_en") name="guidance_en" hint=locale.t("apply.optional")/>
            <TextField label=locale.t("rubric.guidance_zh") name="guidance_zh" hint=locale.t("apply.optional")/>
            <TextField label=locale.t("rubric.weight") name="weight" kind="number" value="1".to_string()/>
            <Submit class="secondary" testid="add-criterion">{locale.t("rubric.add")}</Submit>
        </Form>
    }
}
