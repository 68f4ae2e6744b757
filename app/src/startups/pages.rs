//! The applicant's startup profile page.
use super::server_fns::{
    my_startup, my_team, CancelCofounderInvitation, InviteCofounder, SaveStartup,
};
use super::{Sector, Stage, StartupProfile};
use crate::components::{
    action_error, format_time, mutation, ErrorBanner, ErrorPage, Form, LocaleSelect, SelectField,
    Submit, TextArea, TextField,
};
use crate::i18n::use_locale;
use leptos::prelude::*;

#[component]
pub fn StartupPage() -> impl IntoView {
    let locale = use_locale();
    let profile = Resource::new(|| (), |_| my_startup());
    let action = mutation::<SaveStartup>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match profile.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) => {
                        let is_new = p.is_none();
                        let p: StartupProfile = p.unwrap_or_default();
                        let options = move |keys: Vec<&'static str>, prefix: &str| -> Vec<(String, String)> {
                            keys.into_iter().map(|k| (k.to_string(), locale.t(&format!("{prefix}.{k}")))).collect()
                        };
                        let sector = p.sector.clone();
                        let stage = p.stage.clone();
                        view! {
                            <section class="card narrow wide">
                                <h1>{locale.t(if is_new { "startup.create_title" } else { "startup.title" })}</h1>
                                <p class="lead">{locale.t("startup.lead")}</p>
                                <Form action class="form">
                                    <TextField label=locale.t("startup.name") name="name" value=p.name.clone()/>
                                    <TextField
                                        label=locale.t("startup.credit_code")
                                        name="credit_code"
                                        value=p.credit_code.clone().unwrap_or_default()
                                        hint=locale.t("startup.credit_code_hint")
                                    />
                                    <SelectField label=locale.t("startup.sector") name="sector" value=sector options=options(Sector::ALL.iter().map(|s| s.as_str()).collect(), "sector")/>
                                    <SelectField label=locale.t("startup.stage") name="stage" value=stage options=options(Stage::ALL.iter().map(|s| s.as_str()).collect(), "stage")/>
                                    <TextField
                                        label=locale.t("startup.team_size")
                                        name="team_size"
                                        kind="number"
                                        value=if is_new { String::new() } else { p.team_size.to_string() }
                                    />
                                    <TextField label=locale.t("startup.website") name="website" kind="url" value=p.website.clone().unwrap_or_default()/>
                                    <TextArea label=locale.t("startup.founders") name="founders" rows=3 value=p.founders.clone() hint=locale.t("startup.founders_hint")/>
                                    <Submit>{locale.t("form.save")}</Submit>
                                </Form>
                            </section>
                            {(!is_new).then(|| view! { <TeamSection/> <super::figures_pages::MyFiguresSection/> <super::incubation_pages::MyIncubationSection/> })}
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
    let team = Resource::new(|| (), |_| my_team());
    let invite = mutation::<InviteCofounder>();
    let cancel = mutation::<CancelCofounderInvitation>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                team.await.ok().flatten().map(|t| view! {
                    <section class="card narrow wide" id="team">
                        <h2>{locale.t("team.title")}</h2>
                        <div class="table-scroll" tabindex="0"><table class="data">
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
                                            <Form action=cancel banner=false>
                                                <input type="hidden" name="id" value=p.id/>
                                                <Submit class="small secondary">{locale.t("team.cancel")}</Submit>
                                            </Form>
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table></div>
                        <ErrorBanner error=action_error(cancel)/>
                        <h3>{locale.t("team.invite_title")}</h3>
                        <p class="hint">{locale.t("team.invite_lead")}</p>
                        <Form action=invite class="form">
                            <TextField label=locale.t("field.email") name="email" kind="email"/>
                            <LocaleSelect id="f-invite-lang" label=locale.t("users.invite_language") selected=locale/>
                            <Submit testid="invite-cofounder">{locale.t("team.invite_submit")}</Submit>
                        </Form>
                    </section>
                })
            })}
        </Transition>
    }
}
