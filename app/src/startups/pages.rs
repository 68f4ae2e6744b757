//! The applicant's startup profile page.
use super::server_fns::{my_startup, SaveStartup};
use super::{StartupProfile, SECTORS, STAGES};
use crate::components::{action_error, data_version, mutation, ErrorBanner, ErrorPage, TextField};
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
                                        <textarea id="f-founders" name="founders" rows="3">{p.founders.clone()}</textarea>
                                        <small class="hint">{locale.t("startup.founders_hint")}</small>
                                    </div>
                                    <button type="submit">{locale.t("form.save")}</button>
                                </ActionForm>
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}
