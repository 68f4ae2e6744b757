//! The public landing page, and the applicant's pages: apply, my applications, one application.
use super::server_fns::{
    get_application_detail, get_apply_page, my_applications, open_rounds, SaveApplication,
    WithdrawApplication,
};
use super::{ApplicationFields, Phase};
use crate::components::{
    format_time, mutation, param_id, ErrorPage, Form, Submit, TextArea, TextField,
};
use crate::i18n::use_locale;
use crate::intake::ApplicationStatus;
use leptos::prelude::*;

#[component]
fn StatusPill(status: ApplicationStatus) -> impl IntoView {
    let locale = use_locale();
    view! { <span class=format!("pill {status}") data-status=status.as_str()>{locale.t(&status.label_key())}</span> }
}

#[component]
pub fn Landing() -> impl IntoView {
    let locale = use_locale();
    let rounds = Resource::new(|| (), |_| open_rounds());
    view! {
        <section class="hero">
            <h1>{locale.t("landing.title")}</h1>
            <p class="lead">{locale.t("landing.lead")}</p>
        </section>
        <section class="rounds" aria-labelledby="open-rounds">
            <h2 id="open-rounds">{locale.t("landing.open_rounds")}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match rounds.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <div class="empty" data-testid="no-rounds">
                                <p>{locale.t("landing.no_rounds")}</p>
                                <p class="hint">{locale.t("landing.no_rounds_hint")}</p>
                            </div>
                        }
                        .into_any(),
                        Ok(list) => view! {
                            <ul class="round-list">
                                {list.into_iter().map(|r| view! {
                                    <li class="card" data-round=r.id>
                                        <h3>{r.title}</h3>
                                        <p>{r.description}</p>
                                        <p class="meta">{locale.t_with("landing.closes", &[("when", &format_time(&r.closes_at))])}</p>
                                        <a class="button small" href=format!("/apply/{}", r.id)>{locale.t("landing.apply")}</a>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn ApplyPage() -> impl IntoView {
    let locale = use_locale();
    let round_id = param_id("round_id");
    let data = Resource::new(move || round_id.get(), get_apply_page);
    let action = mutation::<SaveApplication>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) => {
                        let editable = p.application.as_ref().is_none_or(|a| a.status == ApplicationStatus::Draft);
                        let header = view! {
                            <h1>{p.round_title.clone()}</h1>
                            <p class="lead">{p.round_description.clone()}</p>
                            <p class="meta">{locale.t_with("landing.closes", &[("when", &format_time(&p.closes_at))])}</p>
                        };
                        let body = if p.startup_name.is_none() {
                            view! {
                                <div class="empty" data-testid="startup-required">
                                    <p>{locale.t("apply.startup_first")}</p>
                                    <a class="button" href="/startup">{locale.t("apply.create_startup")}</a>
                                </div>
                            }
                            .into_any()
                        } else if !editable {
                            let id = p.application.as_ref().map(|a| a.id).unwrap_or_default();
                            view! {
                                <div class="banner notice">
                                    {locale.t("apply.already_submitted")} " "
                                    <a href=format!("/applications/{id}")>{locale.t("apply.view_application")}</a>
                                </div>
                            }
                            .into_any()
                        } else {
                            let f: ApplicationFields = p.fields.clone();
                            let open = p.phase == Phase::Open;
                            view! {
                                {(!open).then(|| view! { <div class="banner error" role="alert">{locale.t("error.round_not_open")}</div> })}
                                <p class="hint">{locale.t_with("apply.as_startup", &[("name", p.startup_name.as_deref().unwrap_or(""))])}</p>
                                <Form action class="form">
                                    <input type="hidden" name="round_id" value=p.round_id/>
                                    <TextArea label=locale.t("apply.problem") name="problem" value=f.problem/>
                                    <TextArea label=locale.t("apply.solution") name="solution" value=f.solution/>
                                    <TextArea label=locale.t("apply.models_data") name="models_data" value=f.models_data hint=locale.t("apply.models_data_hint")/>
                                    <div class="row">
                                        <TextField label=locale.t("apply.gpu_model") name="gpu_model" value=f.gpu_model hint=locale.t("apply.gpu_model_hint")/>
                                        <TextField label=locale.t("apply.gpu_hours") name="gpu_hours" kind="number" value=f.gpu_hours/>
                                    </div>
                                    <TextArea label=locale.t("apply.traction") name="traction" value=f.traction hint=locale.t("apply.optional")/>
                                    <TextArea label=locale.t("apply.team") name="team" value=f.team/>
                                    <div class="actions">
                                        <Submit name="intent" value="save" class="secondary" testid="save-draft">{locale.t("apply.save_draft")}</Submit>
                                        <Submit name="intent" value="submit" testid="submit-application" disabled=!open>{locale.t("apply.submit")}</Submit>
                                    </div>
                                    <p class="hint">{locale.t("apply.freeze_warning")}</p>
                                </Form>
                            }
                            .into_any()
                        };
                        view! { <section class="card narrow wide">{header}{body}</section> }.into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
pub fn MyApplicationsPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| my_applications());
    view! {
        <h1>{locale.t("applications.title")}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty">
                            <p>{locale.t("applications.none")}</p>
                            <a href="/">{locale.t("applications.browse_rounds")}</a>
                        </div>
                    }
                    .into_any(),
                    Ok(list) => view! {
                        <div class="table-scroll" tabindex="0"><table class="data card">
                            <thead><tr>
                                <th>{locale.t("applications.round")}</th>
                                <th>{locale.t("outbox.status")}</th>
                                <th>{locale.t("applications.submitted_at")}</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|a| view! {
                                    <tr>
                                        <td><a href=format!("/applications/{}", a.id)>{a.round_title}</a></td>
                                        <td><StatusPill status=a.status/></td>
                                        <td>{a.submitted_at.as_ref().map(format_time).unwrap_or_default()}</td>
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
pub fn ApplicationPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let data = Resource::new(move || id.get(), get_application_detail);
    let withdraw = mutation::<WithdrawApplication>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => {
                        let s = d.summary.clone();
                        let answer = move |key: &'static str, value: String| {
                            view! { <dt>{locale.t(key)}</dt><dd class="answer">{value}</dd> }
                        };
                        let draft = s.status == ApplicationStatus::Draft;
                        view! {
                            <div class="split">
                                <section class="card">
                                    <p class="meta"><a href=d.back.0.clone()>{locale.t(&d.back.1)}</a></p>
                                    <h1>{s.round_title.clone()} " " <StatusPill status=s.status/></h1>
                                    {draft.then(|| view! {
                                        <p><a class="button small" href=format!("/apply/{}", s.round_id)>{locale.t("applications.continue")}</a></p>
                                    })}
                                    <h2>{d.profile.name.clone()}</h2>
                                    <dl class="facts">
                                        <dt>{locale.t("startup.sector")}</dt><dd>{locale.t(&format!("sector.{}", d.profile.sector))}</dd>
                                        <dt>{locale.t("startup.stage")}</dt><dd>{locale.t(&format!("stage.{}", d.profile.stage))}</dd>
                                        <dt>{locale.t("startup.team_size")}</dt><dd>{d.profile.team_size}</dd>
                                        <dt>{locale.t("startup.founders")}</dt><dd class="answer">{d.profile.founders.clone()}</dd>
                                        {d.profile.credit_code.clone().map(|c| view! { <dt>{locale.t("startup.credit_code")}</dt><dd>{c}</dd> })}
                                        {d.profile.website.clone().map(|w| view! { <dt>{locale.t("startup.website")}</dt><dd>{w}</dd> })}
                                    </dl>
                                    <dl class="answers">
                                        {answer("apply.problem", d.fields.problem.clone())}
                                        {answer("apply.solution", d.fields.solution.clone())}
                                        {answer("apply.models_data", d.fields.models_data.clone())}
                                        {answer("apply.gpu_model", d.fields.gpu_model.clone())}
                                        {answer("apply.gpu_hours", d.fields.gpu_hours.clone())}
                                        {answer("apply.traction", d.fields.traction.clone())}
                                        {answer("apply.team", d.fields.team.clone())}
                                    </dl>
                                </section>
                                <aside class="card">
                                    <h2>{locale.t("applications.timeline")}</h2>
                                    <ol class="timeline" data-testid="timeline">
                                        {d.timeline.iter().map(|step| view! {
                                            <li data-status=step.status.as_str()>
                                                <strong>{locale.t(&step.status.label_key())}</strong>
                                                <small>{format_time(&step.at)}</small>
                                            </li>
                                        }).collect_view()}
                                    </ol>
                                    {d.decision_message.clone().map(|m| view! {
                                        <h2>{locale.t("applications.decision")}</h2>
                                        <p class="answer">{m}</p>
                                    })}
                                    {(!d.feedback.is_empty()).then(|| view! {
                                        <h2>{locale.t("applications.feedback")}</h2>
                                        <ul class="plain" data-testid="feedback">
                                            {d.feedback.iter().map(|f| view! { <li class="answer">{f.clone()}</li> }).collect_view()}
                                        </ul>
                                    })}
                                    {d.can_withdraw.then(|| view! {
                                        <Form action=withdraw class="inline">
                                            <input type="hidden" name="id" value=s.id/>
                                            <Submit class="secondary" testid="withdraw">{locale.t("applications.withdraw")}</Submit>
                                        </Form>
                                        <p class="hint">{locale.t("applications.withdraw_hint")}</p>
                                    })}
                                </aside>
                            </div>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}
