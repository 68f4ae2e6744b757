//! The account pages: register, sign in, verify, forgotten password, reset, invitation, account.
use super::server_fns::{
    get_invitation, AcceptInvitation, ForgotPassword, Login, Register, ResetPassword,
    UpdateAccount, VerifyEmail,
};
use crate::components::{
    mutation, ErrorPage, Form, LocaleSelect, PasswordField, SelectField, Submit, TextField,
};
use crate::current_user::use_current_user;
use crate::error::AppError;
use crate::i18n::use_locale;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn query_token() -> Memo<String> {
    let query = use_query_map();
    Memo::new(move |_| query.with(|q| q.get("token").unwrap_or_default()))
}

#[component]
pub fn RegisterPage() -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<Register>();
    view! {
        <section class="card narrow">
            <h1>{locale.t("register.title")}</h1>
            <p class="lead">{locale.t("register.lead")}</p>
            <Form action class="form">
                <TextField label=locale.t("field.name") name="name" autocomplete="name"/>
                <TextField label=locale.t("field.email") name="email" kind="email" autocomplete="email"/>
                <PasswordField
                    label=locale.t("field.password")
                    autocomplete="new-password"
                    hint=locale.t("field.password_hint")
                />
                <Submit>{locale.t("register.submit")}</Submit>
            </Form>
            <p class="aside">{locale.t("register.have_account")} " " <a href="/login">{locale.t("nav.login")}</a></p>
        </section>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<Login>();
    view! {
        <section class="card narrow">
            <h1>{locale.t("login.title")}</h1>
            <Form action class="form">
                <TextField label=locale.t("field.email") name="email" kind="email" autocomplete="email"/>
                <PasswordField label=locale.t("field.password")/>
                <Submit>{locale.t("login.submit")}</Submit>
            </Form>
            <p class="aside">
                <a href="/forgot">{locale.t("login.forgot")}</a>
                " · "
                <a href="/register">{locale.t("nav.register")}</a>
            </p>
        </section>
    }
}

/// Verification needs a click: mail scanners that open links must not use the token up.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let locale = use_locale();
    let token = query_token();
    let action = mutation::<VerifyEmail>();
    view! {
        <section class="card narrow">
            <h1>{locale.t("verify.title")}</h1>
            <p>{locale.t("verify.lead")}</p>
            <Form action class="form">
                <input type="hidden" name="token" value=move || token.get()/>
                <Submit testid="verify">{locale.t("verify.submit")}</Submit>
            </Form>
        </section>
    }
}

#[component]
pub fn ForgotPage() -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<ForgotPassword>();
    view! {
        <section class="card narrow">
            <h1>{locale.t("forgot.title")}</h1>
            <p>{locale.t("forgot.lead")}</p>
            <Form action class="form">
                <TextField label=locale.t("field.email") name="email" kind="email" autocomplete="email"/>
                <Submit>{locale.t("forgot.submit")}</Submit>
            </Form>
        </section>
    }
}

#[component]
pub fn ResetPage() -> impl IntoView {
    let locale = use_locale();
    let token = query_token();
    let action = mutation::<ResetPassword>();
    view! {
        <section class="card narrow">
            <h1>{locale.t("reset.title")}</h1>
            <Form action class="form">
                <input type="hidden" name="token" value=move || token.get()/>
                <PasswordField
                    label=locale.t("field.new_password")
                    autocomplete="new-password"
                    hint=locale.t("field.password_hint")
                />
                <Submit>{locale.t("reset.submit")}</Submit>
            </Form>
        </section>
    }
}

#[component]
pub fn InvitePage() -> impl IntoView {
    let locale = use_locale();
    let token = query_token();
    let details = Resource::new(move || token.get(), get_invitation);
    let action = mutation::<AcceptInvitation>();
    view! {
        <section class="card narrow">
            <h1>{locale.t("invite.title")}</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match details.await {
                        Err(e) => view! { <div class="banner error" role="alert">{e.message(locale)}</div> }.into_any(),
                        Ok(inv) => {
                            let role = locale.t(inv.role.label_key());
                            view! {
                                <p>{match &inv.startup_name {
                                    Some(startup) => locale.t_with("invite.team_lead", &[("email", &inv.email), ("startup", startup)]),
                                    None => locale.t_with("invite.lead", &[("email", &inv.email), ("role", &role)]),
                                }}</p>
                                <Form action class="form">
                                    <input type="hidden" name="token" value=token.get_untracked()/>
                                    {(!inv.has_account).then(|| view! {
                                        <TextField label=locale.t("field.name") name="name" autocomplete="name"/>
                                    })}
                                    <PasswordField
                                        label=locale.t(if inv.has_account { "invite.existing_password" } else { "field.password" })
                                        autocomplete=if inv.has_account { "current-password" } else { "new-password" }
                                    />
                                    <Submit>{locale.t("invite.submit")}</Submit>
                                </Form>
                            }
                            .into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let locale = use_locale();
    let me = use_current_user().0;
    let action = mutation::<UpdateAccount>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => view! {
                        <section class="card narrow">
                            <h1>{locale.t("account.title")}</h1>
                            <dl class="facts">
                                <dt>{locale.t("field.email")}</dt>
                                <dd>{me.email.clone()}</dd>
                                <dt>{locale.t("account.roles")}</dt>
                                <dd>{me.roles.iter().map(|r| locale.t(r.label_key())).collect::<Vec<_>>().join(", ")}</dd>
                            </dl>
                            <Form action class="form">
                                <TextField label=locale.t("field.name") name="name" autocomplete="name" value=me.name.clone()/>
                                <LocaleSelect id="f-lang" label=locale.t("account.language") selected=me.locale/>
                                <Submit>{locale.t("form.save")}</Submit>
                            </Form>
                        </section>
                        <TimeZoneForm/>
                        <ClusterLoginForm/>
                    }
                    .into_any(),
                    Ok(None) => view! { <ErrorPage error=AppError::Unauthenticated/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The zone the person reads and types times in: the park's unless they choose their own.
#[component]
fn TimeZoneForm() -> impl IntoView {
    use super::server_fns::{my_time_zone, SetTimeZone};
    let locale = use_locale();
    let current = Resource::new(|| (), |_| my_time_zone());
    let action = mutation::<SetTimeZone>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().map(|(own, park)| view! {
                    <section class="card narrow">
                        <Form action class="form">
                            <SelectField
                                label=locale.t("account.time_zone")
                                name="time_zone"
                                value=own.clone()
                                options=std::iter::once((String::new(), locale.t_with("account.time_zone_park", &[("zone", &park)])))
                                    .chain(crate::time::Zone::choices().into_iter().map(|z| (z.to_string(), z.to_string())))
                                    .collect()
                                hint=locale.t("account.time_zone_hint")
                            />
                            <Submit testid="save-time-zone">{locale.t("form.save")}</Submit>
                        </Form>
                    </section>
                })
            })}
        </Transition>
    }
}

/// The person's login on the park's cluster: their startup's allocations list them by it.
#[component]
fn ClusterLoginForm() -> impl IntoView {
    use crate::credits::server_fns::{my_cluster_login, SetClusterLogin};
    let locale = use_locale();
    let current = Resource::new(|| (), |_| my_cluster_login());
    let action = mutation::<SetClusterLogin>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().map(|login| view! {
                    <section class="card narrow">
                        <h2>{locale.t("account.cluster_title")}</h2>
                        <Form action class="form">
                            <TextField
                                label=locale.t("account.cluster_login")
                                name="cluster_login"
                                autocomplete="username"
                                value=login.unwrap_or_default()
                                hint=locale.t("account.cluster_login_hint")
                            />
                            <Submit testid="save-cluster-login">{locale.t("form.save")}</Submit>
                        </Form>
                    </section>
                })
            })}
        </Transition>
    }
}
