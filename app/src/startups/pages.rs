//! The applicant's startup profile page.
use super::server_fns::{
    my_startup, my_team, CancelCofounderInvitation, InviteCofounder, SaveStartup,
};
use super::{StartupProfile, SECTORS, STAGES};
use crate::components::{
    action_error, data_version, format_time, mutation, ErrorBanner, ErrorPage, LocaleSelect,
    TextField,
};
use crate::i18n::use_locale;
use leptos::form::ActionForm;
use leptos::prelude::*;

#[component]
pub fn StartupPage() -> impl IntoView {
    let locale = use_locale();
    let profile = Resource::new(data_version, |_| my_startup());
    let action = mutation::<SaveStartup>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match profile.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) => {
                        let is_new = p.is_none();
                        let p: StartupProfile = p.unwrap_or_default();
                        let option = move |key: &'static str, prefix: &'static str, current: &str| {
                            let selected = key == current;
                            view! { <option value=key selected=selected>{locale.t(&format!("{prefix}.{key}"))}</option> }
                        };
                        let sector = p.sector.clone();
                        let stage = p.stage.clone();
                        view! {
                            <section class="card narrow wide">
                                <h1>{locale.t(if is_new { "startup.create_title" } else { "startup.title" })}</h1>
                                <p class="lead">{locale.t("startup.lead")}</p>
                                <ErrorBanner error=action_error(action)/>
                                <ActionForm action attr:class="form" attr:novalidate=true>
                                    <TextField label=locale.t("startup.name") name="name" value=p.name.clone()/>
                                    <TextField
                                        label=locale.t("startup.credit_code")
                                        name="credit_code"
                                        value=p.credit_code.clone().unwrap_or_default()
                                        hint=locale.t("startup.credit_code_hint")
                                    />
                                    <div class="field">
                                        <label for="f-sector">{locale.t("startup.sector")}</label>
                                        <select id="f-sector" name="sector">
                                            {SECTORS.iter().map(|k| option(k, "sector", &sector)).collect_view()}
                                        </select>
                                    </div>
                                    <div class="field">
                                        <label for="f-stage">{locale.t("startup.stage")}</label>
                                        <select id="f-stage" name="stage">
                                            {STAGES.iter().map(|k| option(k, "stage", &stage)).collect_view()}
                                        </select>
                                    </div>
                                    <TextField
                                        label=locale.t("startup.team_size")
                                        name="team_size"
                                        kind="number"
                                        value=if is_new { String::new() } else { p.team_size.to_string() }
                                    />
                                    <TextField label=locale.t("startup.website") name="website" kind="url" value=p.website.clone().unwrap_or_default()/>
                                    <div class="field">
                                        <label for="f-founders">{locale.t("startup.founders")}</label>
                                        <textarea id="f-founders" name="founders" rows="3">{crate::components::textarea_text(p.founders.clone())}</textarea>
                                        <small class="hint">{locale.t("startup.founders_hint")}</small>
                                    </div>
                                    <button type="submit">{locale.t("form.save")}</button>
                                </ActionForm>
                            </section>
                            {(!is_new).then(|| view! { <TeamSection/> <super::incubation_pages::MyIncubationSection/> })}
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

/// The team: who is on it, who is invited, and a form to invite a co-founder by email.
#[component]
fn TeamSection() -> impl IntoView {
    let locale = use_locale();
    let team = Resource::new(data_version, |_| my_team());
    let invite = mutation::<InviteCofounder>();
    let cancel = mutation::<CancelCofounderInvitation>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                team.await.ok().flatten().map(|t| view! {
                    <section class="card narrow wide" id="team">
                        <h2>{locale.t("team.title")}</h2>
                        <table class="data">
                            <thead><tr>
                                <th>{locale.t("field.name")}</th>
                                <th>{locale.t("field.email")}</th>
                                <th>{locale.t("team.role")}</th>
                                <th>{locale.t("team.since")}</th>
                            </tr></thead>
                            <tbody>
                                {t.members.into_iter().map(|m| view! {
                                    <tr data-member=m.email.clone()>
                                        <td>{m.name}</td>
                                        <td>{m.email.clone()}</td>
                                        <td>{locale.t(&format!("team.role_{}", m.role))}</td>
                                        <td>{format_time(&m.joined_at)}</td>
                                    </tr>
                                }).collect_view()}
                                {t.pending.into_iter().map(|p| view! {
                                    <tr data-pending=p.email.clone()>
                                        <td><span class="pill submitted">{locale.t("team.invited")}</span></td>
                                        <td>{p.email.clone()}</td>
                                        <td>{locale.t_with("team.expires", &[("time", &format_time(&p.expires_at))])}</td>
                                        <td>
                                            <ActionForm action=cancel>
                                                <input type="hidden" name="id" value=p.id/>
                                                <button type="submit" class="small secondary">{locale.t("team.cancel")}</button>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        <ErrorBanner error=action_error(cancel)/>
                        <h3>{locale.t("team.invite_title")}</h3>
                        <p class="hint">{locale.t("team.invite_lead")}</p>
                        <ErrorBanner error=action_error(invite)/>
                        <ActionForm action=invite attr:class="form" attr:novalidate=true>
                            <TextField label=locale.t("field.email") name="email" kind="email"/>
                            <LocaleSelect id="f-invite-lang" label=locale.t("users.invite_language") selected=locale/>
                            <button type="submit" data-testid="invite-cofounder">{locale.t("team.invite_submit")}</button>
                        </ActionForm>
                    </section>
                })
            })}
        </Transition>
    }
}
