//! Dashboard (every role) and user administration (admins).
use crate::auth::server_fns::{list_users, InviteUser, SetUserRoles};
use crate::auth::types::{UserRow, USER_COLUMNS};
use crate::auth::Role;
use crate::components::{
    format_time, initial_value, mutation, ErrorBanner, ErrorPage, Form, LocaleSelect, Submit,
    TextField,
};
use crate::current_user::use_current_user;
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::startups::incubation::StartupStatus;
use crate::tables::{query_from, FilterSelect, SortTh, TableFilters, TablePager};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

#[component]
pub fn Dashboard() -> impl IntoView {
    let locale = use_locale();
    let me = use_current_user().0;
    let summary = Resource::new(|| (), |_| super::server_fns::dashboard_summary());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match (me.await, summary.await) {
                    (Ok(Some(me)), Ok(summary)) => {
                        let cards = me.roles.iter().map(|role| role_card(locale, *role, &summary)).collect_view();
                        view! {
                            <h1 data-testid="dashboard-title">{locale.t_with("dashboard.welcome", &[("name", &me.name)])}</h1>
                            <div class="grid">{cards}</div>
                            <crate::cohorts::pages::MyTrainingPanel/>
                        }
                        .into_any()
                    }
                    (Ok(None), _) => view! { <ErrorPage error=AppError::Unauthenticated/> }.into_any(),
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorPage error=e/> }.into_any(),
                }
            })}
        </Transition>
        <crate::admin::overview_pages::ParkOverviewPanel/>
    }
}

/// A role's card: what is true for this person now, and where to act on it.
fn role_card(
    locale: crate::i18n::Locale,
    role: Role,
    summary: &super::DashboardSummary,
) -> impl IntoView {
    let (title, body, links): (String, String, Vec<(&str, String)>) = match role {
        Role::Applicant => match (&summary.startup, &summary.application_open) {
            (Some((name, status)), _) if *status == StartupStatus::Incubating => (
                locale.t("dashboard.founder_title"),
                locale.t_with("dashboard.founder_body", &[("startup", name)]),
                vec![
                    ("/startup", locale.t("dashboard.founder_link")),
                    ("/credits", locale.t("dashboard.credits_link")),
                ],
            ),
            (Some((name, status)), _) if status.has_ended() => (
                locale.t("dashboard.founder_title"),
                locale.t_with(
                    &format!("dashboard.alumni_body_{status}"),
                    &[("startup", name)],
                ),
                vec![("/startup", locale.t("dashboard.founder_link"))],
            ),
            (_, Some(status)) => (
                locale.t("dashboard.applicant_title"),
                locale.t_with(
                    "dashboard.application_open",
                    &[("status", &locale.t(&status.label_key()))],
                ),
                vec![("/applications", locale.t("dashboard.applicant_link"))],
            ),
            _ => (
                locale.t("dashboard.applicant_title"),
                locale.t("dashboard.applicant_body"),
                vec![("/applications", locale.t("dashboard.applicant_link"))],
            ),
        },
        Role::Mentor => {
            let body = match (summary.reviews_open, summary.next_review_due) {
                (0, _) => locale.t("dashboard.mentor_none"),
                (n, Some(due)) => format!(
                    "{} {}",
                    locale.t_count("dashboard.mentor_open", n, &[]),
                    locale.t_with("dashboard.mentor_due", &[("when", &format_time(&due))])
                ),
                (n, None) => locale.t_count("dashboard.mentor_open", n, &[]),
            };
            (
                locale.t("dashboard.mentor_title"),
                body,
                vec![("/reviews", locale.t("dashboard.mentor_link"))],
            )
        }
        Role::Admin => (
            locale.t("dashboard.admin_title"),
            locale.t("dashboard.admin_body"),
            vec![("/admin/rounds", locale.t("dashboard.admin_link"))],
        ),
    };
    view! {
        <article class="card" data-role=role.as_str()>
            <h2>{title}</h2>
            <p data-testid=format!("dashboard-{}", role.as_str())>{body}</p>
            <p class="actions">
                {links.into_iter().map(|(href, text)| view! { <a href=href>{text}</a> }).collect_view()}
            </p>
        </article>
    }
}

#[component]
pub fn UsersPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let users = Resource::new(move || query.get(), list_users);
    let invite = mutation::<InviteUser>();
    const PATH: &str = "/admin/users";
    view! {
        <h1>{locale.t("users.title")}</h1>
        {move || {
            let q = query.get();
            let roles = crate::auth::Role::ALL
                .iter()
                .map(|r| (r.as_str().to_string(), locale.t(&format!("role.{}", r.as_str()))))
                .collect::<Vec<_>>();
            let verified = ["verified", "unverified"]
                .iter()
                .map(|k| (k.to_string(), locale.t(&format!("users.{k}_filter"))))
                .collect::<Vec<_>>();
            view! {
                <TableFilters path=PATH csv="/admin/users.csv" query=q.clone() search_label=locale.t("users.search")>
                    <FilterSelect name="status" label=locale.t("users.role") value=q.status.clone() options=roles/>
                    <FilterSelect name="of" label=locale.t("users.verified") value=q.of.clone() options=verified/>
                </TableFilters>
            }
        }}
        <div class="split">
            <section class="card">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match users.await {
                            Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                            Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                            Ok(page) => {
                                let q = query.get_untracked();
                                let th = move |key: &'static str| view! { <SortTh path=PATH query=q.clone() columns=USER_COLUMNS key/> };
                                view! {
                                    <div class="table-scroll" tabindex="0"><table class="data">
                                        <thead><tr>
                                            {th("name")}
                                            {th("email")}
                                            <th>{locale.t("users.verified")}</th>
                                            {th("joined")}
                                            <th>{locale.t("account.roles")}</th>
                                        </tr></thead>
                                        <tbody>
                                            {page.rows.clone().into_iter().map(|u| view! { <UserRowView user=u/> }).collect_view()}
                                        </tbody>
                                    </table></div>
                                    {page.rows.is_empty().then(|| view! { <p class="empty">{locale.t("users.none")}</p> })}
                                    <TablePager path=PATH query=query.get_untracked() page=page.page more=page.more keys=page.keys/>
                                }
                                .into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
            <section class="card">
                <h2>{locale.t("users.invite_title")}</h2>
                <p class="hint">{locale.t("users.invite_lead")}</p>
                <Form action=invite class="form">
                    <TextField label=locale.t("field.email") name="email" kind="email"/>
                    <div class="field">
                        <label for="f-role">{locale.t("users.role")}</label>
                        <select id="f-role" name="role">
                            <option value="mentor">{locale.t("role.mentor")}</option>
                            <option value="admin" selected=initial_value("role", String::new()) == "admin">{locale.t("role.admin")}</option>
                        </select>
                    </div>
                    <LocaleSelect id="f-lang" label=locale.t("users.invite_language") selected=locale/>
                    <Submit>{locale.t("users.invite_submit")}</Submit>
                </Form>
            </section>
        </div>
    }
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
                <Form action class="roles-form" row=("user_id", user.id)>
                    <input type="hidden" name="user_id" value=user.id/>
                    {Role::ALL.into_iter().map(|r| checkbox(r, user.roles.contains(&r))).collect_view()}
                    <Submit class="small secondary">{locale.t("form.save")}</Submit>
                </Form>
            </td>
        </tr>
    }
}
