//! Dashboard (every role) and user administration (admins).
use crate::auth::server_fns::{list_users, InviteUser, SetUserRoles};
use crate::auth::types::UserRow;
use crate::auth::Role;
use crate::components::{
    action_error, data_version, format_time, mutation, ErrorBanner, ErrorPage, LocaleSelect, Pager,
    TextField,
};
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::shell::use_current_user;
use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Dashboard() -> impl IntoView {
    let locale = use_locale();
    let me = use_current_user().0;
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(Some(me)) => {
                        let cards = me.roles.iter().map(|role| {
                            let (title, body, link, link_text) = match role {
                                Role::Applicant => ("dashboard.applicant_title", "dashboard.applicant_body", "/applications", "dashboard.applicant_link"),
                                Role::Mentor => ("dashboard.mentor_title", "dashboard.mentor_body", "/reviews", "dashboard.mentor_link"),
                                Role::Admin => ("dashboard.admin_title", "dashboard.admin_body", "/admin/rounds", "dashboard.admin_link"),
                            };
                            view! {
                                <article class="card" data-role=role.as_str()>
                                    <h2>{locale.t(title)}</h2>
                                    <p>{locale.t(body)}</p>
                                    <a href=link>{locale.t(link_text)}</a>
                                </article>
                            }
                        }).collect_view();
                        view! {
                            <h1 data-testid="dashboard-title">{locale.t_with("dashboard.welcome", &[("name", &me.name)])}</h1>
                            <div class="grid">{cards}</div>
                            <crate::cohorts::pages::MyTrainingPanel/>
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <ErrorPage error=AppError::Unauthenticated/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                }
            })}
        </Transition>
        <crate::admin::overview_pages::ParkOverviewPanel/>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let params = Memo::new(move |_| {
        query.with(|q| {
            (
                q.get("q").unwrap_or_default(),
                q.get("page")
                    .and_then(|p| p.parse::<u64>().ok())
                    .unwrap_or(0),
            )
        })
    });
    let users = Resource::new(
        move || (params.get(), data_version()),
        |((q, page), _)| list_users(q, page),
    );
    let invite = mutation::<InviteUser>();
    view! {
        <h1>{locale.t("users.title")}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match users.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(page) => {
                        let q = params.get_untracked().0;
                        let base = format!("/admin/users?q={}", url_escape(&q));
                        view! {
                            <div class="split">
                                <section class="card">
                                    <form method="get" action="/admin/users" class="search" role="search">
                                        <input type="search" name="q" value=q.clone() aria-label=locale.t("users.search") placeholder=locale.t("users.search")/>
                                        <button type="submit" class="secondary">{locale.t("users.search_button")}</button>
                                    </form>
                                    <table class="data">
                                        <thead><tr>
                                            <th>{locale.t("field.name")}</th>
                                            <th>{locale.t("field.email")}</th>
                                            <th>{locale.t("users.verified")}</th>
                                            <th>{locale.t("users.joined")}</th>
                                            <th>{locale.t("account.roles")}</th>
                                        </tr></thead>
                                        <tbody>
                                            {page.rows.clone().into_iter().map(|u| view! { <UserRowView user=u/> }).collect_view()}
                                        </tbody>
                                    </table>
                                    {page.rows.is_empty().then(|| view! { <p class="empty">{locale.t("users.none")}</p> })}
                                    <Pager base page=page.page per_page=page.per_page total=page.total/>
                                </section>
                                <section class="card">
                                    <h2>{locale.t("users.invite_title")}</h2>
                                    <p class="hint">{locale.t("users.invite_lead")}</p>
                                    <ErrorBanner error=action_error(invite)/>
                                    <ActionForm action=invite attr:class="form" attr:novalidate=true>
                                        <TextField label=locale.t("field.email") name="email" kind="email"/>
                                        <div class="field">
                                            <label for="f-role">{locale.t("users.role")}</label>
                                            <select id="f-role" name="role">
                                                <option value="mentor">{locale.t("role.mentor")}</option>
                                                <option value="admin">{locale.t("role.admin")}</option>
                                            </select>
                                        </div>
                                        <LocaleSelect id="f-lang" label=locale.t("users.invite_language") selected=locale/>
                                        <button type="submit">{locale.t("users.invite_submit")}</button>
                                    </ActionForm>
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

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[component]
fn UserRowView(user: UserRow) -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<SetUserRoles>();
    let checkbox = move |role: Role, has: bool| {
        view! {
            <label class="check">
                <input type="checkbox" name=role.as_str() value="on" checked=has/>
                {locale.t(role.label_key())}
            </label>
        }
    };
    view! {
        <tr data-user=user.email.clone()>
            <td>{user.name.clone()}</td>
            <td>{user.email.clone()}</td>
            <td>{locale.t(if user.verified { "form.yes" } else { "form.no" })}</td>
            <td>{format_time(&user.created_at)}</td>
            <td>
                <ErrorBanner error=action_error(action)/>
                <ActionForm action attr:class="roles-form">
                    <input type="hidden" name="user_id" value=user.id/>
                    {Role::ALL.into_iter().map(|r| checkbox(r, user.roles.contains(&r))).collect_view()}
                    <button type="submit" class="small secondary">{locale.t("form.save")}</button>
                </ActionForm>
            </td>
        </tr>
    }
}
