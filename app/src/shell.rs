//! The document, the router and the frame around every page: header, navigation, notices.
use crate::auth::server_fns::{current_user, Logout, SetLanguage};
use crate::auth::{Me, Role};
use crate::components::{NotFound, PageField, Submit};
use crate::current_user::{use_current_user, CurrentUser};
use crate::i18n::{use_locale, Locale};
use crate::islands::Enhance;
use crate::time::Zone;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    let locale = current_locale();
    let zone = current_zone();
    // The server names the bundle after its content (`hatchery.<hash>`): the stylesheet too.
    let stylesheet = format!("/{}/{}.css", options.site_pkg_dir, options.output_name);
    view! {
        <!DOCTYPE html>
        <html lang=locale.tag() data-tz=zone.name()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <AutoReload options=options.clone()/>
                {restore_url()}
                <HydrationScripts options islands=true/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// A rejected form submitted without JavaScript is answered with its page drawn again (see
/// the server's `nojs` layer) at the form's own address (`/api/…`): before the bundle starts,
/// the address bar is set back to the page's, which the router then reads.
fn restore_url() -> impl IntoView {
    #[cfg(feature = "ssr")]
    {
        crate::components::submitted().map(|s| {
            // A JSON string with `<`, `>` and `&` escaped: it cannot end the script, and the
            // page's HTML writer has nothing in it to escape.
            let url = serde_json::to_string(&s.url)
                .unwrap_or_else(|_| "\"/\"".into())
                .replace('<', "\\u003c")
                .replace('>', "\\u003e")
                .replace('&', "\\u0026");
            let nonce = leptos::nonce::use_nonce().map(|n| n.to_string());
            view! { <script nonce=nonce>{format!("history.replaceState(null,\"\",{url});")}</script> }
        })
    }
}

/// The page's Content-Security-Policy: scripts only from Hatchery itself or carrying this
/// response's nonce (Leptos puts it on its own inline scripts), so markup that slipped into a
/// page cannot run, nor can inline event handlers; no plugins, no framing, forms only to us.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    leptos::nonce::provide_nonce();
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
         base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The language of this render: the request's. (Pages are drawn on the server only; see
/// [`crate::islands`].)
fn current_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|p| crate::i18n::request_locale(&p))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Locale::default()
    }
}

/// The zone times are shown and read in for this render: the signed-in person's (the router
/// reads their session before a page renders), else the park's.
fn current_zone() -> Zone {
    #[cfg(feature = "ssr")]
    {
        let park = use_context::<crate::state::AppState>()
            .map(|s| s.settings.park_zone)
            .unwrap_or_default();
        use_context::<http::request::Parts>()
            .and_then(|p| {
                p.extensions
                    .get::<crate::auth::server_fns::ssr::ActorCache>()
                    .and_then(|c| c.known())
            })
            .map(|a| a.zone)
            .unwrap_or(park)
    }
    #[cfg(not(feature = "ssr"))]
    {
        Zone::default()
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = current_locale();
    provide_context(locale);
    provide_context(current_zone());

    view! {
        <Router>
            <Frame/>
        </Router>
        <Enhance/>
    }
}

#[component]
fn Frame() -> impl IntoView {
    let locale = use_locale();
    let location = use_location();
    let me = Resource::new(move || location.pathname.get(), |_| current_user());
    provide_context(CurrentUser(me));
    view! {
        <PageTitle/>
        <Header/>
        <main class="container">
            <Notice/>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=crate::intake::pages::Landing ssr=SsrMode::Async/>
                <Route path=path!("/register") view=crate::auth::pages::RegisterPage ssr=SsrMode::Async/>
                <Route path=path!("/login") view=crate::auth::pages::LoginPage ssr=SsrMode::Async/>
                <Route path=path!("/verify") view=crate::auth::pages::VerifyPage ssr=SsrMode::Async/>
                <Route path=path!("/forgot") view=crate::auth::pages::ForgotPage ssr=SsrMode::Async/>
                <Route path=path!("/reset") view=crate::auth::pages::ResetPage ssr=SsrMode::Async/>
                <Route path=path!("/invite") view=crate::auth::pages::InvitePage ssr=SsrMode::Async/>
                <Route path=path!("/account") view=crate::auth::pages::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/startup") view=crate::startups::pages::StartupPage ssr=SsrMode::Async/>
                <Route path=path!("/apply/:round_id") view=crate::intake::pages::ApplyPage ssr=SsrMode::Async/>
                <Route path=path!("/applications") view=crate::intake::pages::MyApplicationsPage ssr=SsrMode::Async/>
                <Route path=path!("/applications/:id") view=crate::intake::pages::ApplicationPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/rounds") view=crate::intake::round_pages::RoundsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/rounds/new") view=crate::intake::round_pages::NewRoundPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/rounds/:id") view=crate::intake::round_pages::EditRoundPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/applications") view=crate::review::list_pages::ApplicationsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/rounds/:id/applications") view=crate::review::pages::RoundApplicationsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/rounds/:id/decisions") view=crate::review::pages::DecisionBoardPage ssr=SsrMode::Async/>
                <Route path=path!("/reviews") view=crate::review::pages::ReviewQueuePage ssr=SsrMode::Async/>
                <Route path=path!("/reviews/:id") view=crate::review::pages::ReviewFormPage ssr=SsrMode::Async/>
                <Route path=path!("/dashboard") view=crate::admin::pages::Dashboard ssr=SsrMode::Async/>
                <Route path=path!("/credits") view=crate::credits::pages::CreditsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/resources") view=crate::credits::pages::ResourcesPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/resources/:id") view=crate::credits::pages::EditResourcePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/resources/:id/drift") view=crate::credits::pages::DriftPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/grants") view=crate::credits::pages::GrantsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/grants/new") view=crate::credits::pages::NewGrantPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/grants/:id") view=crate::credits::pages::GrantPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/ledger") view=crate::credits::pages::LedgerPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/sync") view=crate::credits::pages::SyncJobsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/programmes") view=crate::settlement::pages::ProgrammesPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/programmes/new") view=crate::settlement::pages::NewProgrammePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/programmes/:id") view=crate::settlement::pages::ProgrammePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/claims") view=crate::settlement::claim_pages::ClaimsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/claims/:id") view=crate::settlement::claim_pages::ClaimPage ssr=SsrMode::Async/>
                <Route path=path!("/statements") view=crate::settlement::statement_pages::StatementsPage ssr=SsrMode::Async/>
                <Route path=path!("/statements/:id") view=crate::settlement::statement_pages::StatementPage ssr=SsrMode::Async/>
                <Route path=path!("/cohorts") view=crate::cohorts::pages::CohortsPage ssr=SsrMode::Async/>
                <Route path=path!("/cohorts/:id") view=crate::cohorts::pages::CohortPage ssr=SsrMode::Async/>
                <Route path=path!("/certificates/:code") view=crate::cohorts::pages::CertificatePage ssr=SsrMode::Async/>
                <Route path=path!("/verify-certificate") view=crate::cohorts::pages::VerifyPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/cohorts") view=crate::cohorts::admin_pages::AdminCohortsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/cohorts/new") view=crate::cohorts::admin_pages::NewCohortPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/cohorts/:id") view=crate::cohorts::admin_pages::AdminCohortPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/sessions/:id") view=crate::cohorts::admin_pages::AttendancePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/api-tokens") view=crate::admin::token_pages::ApiTokensPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/report") view=crate::admin::overview_pages::ReportPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/sponsor-report") view=crate::admin::sponsor_pages::SponsorReportPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit") view=crate::admin::audit_pages::AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/startups") view=crate::startups::incubation_pages::StartupsAdminPage ssr=SsrMode::Async/>
                <Route path=path!("/startups/:id") view=crate::startups::incubation_pages::StartupDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/mentoring") view=crate::startups::incubation_pages::MentoringPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/users") view=crate::admin::pages::UsersPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/outbox") view=crate::mail::pages::OutboxPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/outbox/:id") view=crate::mail::pages::OutboxMessagePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/channels") view=crate::channels::pages::ChannelsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/channels/:id") view=crate::channels::pages::ChannelPage ssr=SsrMode::Async/>
            </Routes>
        </main>
        <footer class="site-footer container">
            <span>{locale.t("app.footer")}</span>
        </footer>
    }
}

#[component]
fn Header() -> impl IntoView {
    let locale = use_locale();
    let me = use_current_user().0;
    view! {
        <header class="site-header">
            <div class="container header-row">
                <A href="/" attr:class="brand">{locale.t("app.name")}</A>
                // On a phone the links fold into a menu (a `<details>`: it opens without the
                // wasm bundle); on wider screens they are always shown and the toggle is not.
                <details class="nav-menu">
                    <summary data-testid="nav-toggle">{locale.t("nav.menu")}</summary>
                    <nav class="main-nav" aria-label=locale.t("nav.label")>
                        <Suspense fallback=|| ()>
                            {move || Suspend::new(async move {
                                let me = me.await.ok().flatten();
                                view! { <NavLinks me/> }
                            })}
                        </Suspense>
                    </nav>
                </details>
                <LanguageSwitch/>
            </div>
        </header>
    }
}

#[component]
fn NavLinks(me: Option<Me>) -> impl IntoView {
    let locale = use_locale();
    match me {
        None => view! {
            <A href="/cohorts">{locale.t("nav.cohorts")}</A>
            <A href="/login">{locale.t("nav.login")}</A>
            <A href="/register" attr:class="button small">{locale.t("nav.register")}</A>
        }
        .into_any(),
        Some(me) => {
            let admin = me.has(Role::Admin);
            let applicant = me.has(Role::Applicant);
            let mentor = me.has(Role::Mentor);
            view! {
                <A href="/dashboard">{locale.t("nav.dashboard")}</A>
                <A href="/cohorts">{locale.t("nav.cohorts")}</A>
                {applicant.then(|| view! {
                    <A href="/startup">{locale.t("nav.startup")}</A>
                    <A href="/applications">{locale.t("nav.applications")}</A>
                    <A href="/credits">{locale.t("nav.credits")}</A>
                    {(!admin).then(|| view! { <A href="/statements">{locale.t("nav.statements")}</A> })}
                })}
                {mentor.then(|| view! { <A href="/reviews">{locale.t("nav.reviews")}</A> })}
                {mentor.then(|| view! { <A href="/mentoring">{locale.t("nav.mentoring")}</A> })}
                {admin.then(|| view! {
                    <A href="/admin/rounds">{locale.t("nav.rounds")}</A>
                    <A href="/admin/applications">{locale.t("nav.applications")}</A>
                    <A href="/admin/cohorts">{locale.t("nav.admin_cohorts")}</A>
                    <A href="/admin/startups">{locale.t("nav.startups")}</A>
                    <A href="/admin/grants">{locale.t("nav.grants")}</A>
                    <A href="/admin/ledger">{locale.t("nav.ledger")}</A>
                    <A href="/admin/resources">{locale.t("nav.resources")}</A>
                    <A href="/admin/programmes">{locale.t("nav.programmes")}</A>
                    <A href="/statements">{locale.t("nav.statements")}</A>
                    <A href="/admin/claims">{locale.t("nav.claims")}</A>
                    <A href="/admin/sync">{locale.t("nav.sync")}</A>
                    <A href="/admin/users">{locale.t("nav.users")}</A>
                    <A href="/admin/outbox">{locale.t("nav.outbox")}</A>
                    <A href="/admin/channels">{locale.t("nav.channels")}</A>
                    <A href="/admin/audit">{locale.t("nav.audit")}</A>
                    <A href="/admin/api-tokens">{locale.t("nav.api_tokens")}</A>
                })}
                <A href="/account" attr:class="who">{me.name.clone()}</A>
                <form method="post" action=Logout::PATH class="inline">
                    <Submit class="ghost" testid="logout">{locale.t("nav.logout")}</Submit>
                </form>
            }
            .into_any()
        }
    }
}

/// The message key of a page's title, from its path (`/admin/grants/7` → `title.grant`). One
/// table for every route, so tabs, history and screen readers tell pages apart.
pub fn title_key(path: &str) -> &'static str {
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [] => "title.home",
        ["register"] => "title.register",
        ["login"] => "title.login",
        ["verify"] => "title.verify",
        ["forgot"] => "title.forgot",
        ["reset"] => "title.reset",
        ["invite"] => "title.invite",
        ["account"] => "title.account",
        ["startup"] => "title.startup",
        ["applications"] => "title.my_applications",
        ["admin", "rounds"] => "title.rounds",
        ["admin", "rounds", "new"] => "title.new_round",
        ["admin", "applications"] => "title.applications",
        ["reviews"] => "title.reviews",
        ["dashboard"] => "title.dashboard",
        ["credits"] => "title.credits",
        ["admin", "resources"] => "title.resources",
        ["admin", "grants"] => "title.grants",
        ["admin", "grants", "new"] => "title.new_grant",
        ["admin", "ledger"] => "title.ledger",
        ["admin", "sync"] => "title.sync",
        ["admin", "programmes"] => "title.programmes",
        ["admin", "programmes", "new"] => "title.new_programme",
        ["statements"] => "title.statements",
        ["admin", "claims"] => "title.claims",
        ["cohorts"] => "title.cohorts",
        ["verify-certificate"] => "title.verify_certificate",
        ["admin", "cohorts"] => "title.admin_cohorts",
        ["admin", "cohorts", "new"] => "title.new_cohort",
        ["admin", "api-tokens"] => "title.api_tokens",
        ["admin", "report"] => "title.report",
        ["admin", "sponsor-report"] => "title.sponsor_report",
        ["admin", "audit"] => "title.audit",
        ["admin", "startups"] => "title.startups",
        ["mentoring"] => "title.mentoring",
        ["admin", "users"] => "title.users",
        ["admin", "outbox"] => "title.outbox",
        ["admin", "channels"] => "title.channels",
        ["apply", _] => "title.apply",
        ["applications", _] => "title.application",
        ["admin", "rounds", _] => "title.edit_round",
        ["admin", "rounds", _, "applications"] => "title.round_applications",
        ["admin", "rounds", _, "decisions"] => "title.decisions",
        ["reviews", _] => "title.review",
        ["admin", "resources", _] => "title.resource",
        ["admin", "resources", _, "drift"] => "title.drift",
        ["admin", "grants", _] => "title.grant",
        ["admin", "programmes", _] => "title.programme",
        ["statements", _] => "title.statement",
        ["admin", "claims", _] => "title.claim",
        ["cohorts", _] => "title.cohort",
        ["certificates", _] => "title.certificate",
        ["admin", "cohorts", _] => "title.admin_cohort",
        ["admin", "sessions", _] => "title.attendance",
        ["startups", _] => "title.startup_detail",
        ["admin", "outbox", _] => "title.outbox_message",
        ["admin", "channels", _] => "title.channel",
        _ => "title.not_found",
    }
}

/// The document's title: the page's, then the product's name.
#[component]
fn PageTitle() -> impl IntoView {
    let locale = use_locale();
    let location = use_location();
    let title =
        move |path: &str| format!("{} · {}", locale.t(title_key(path)), locale.t("app.name"));
    // The server reads the title once the page is rendered, after the request's signals are
    // gone: read then, the router's location panicked or gave another request's address (1
    // request in 50 under load). So the text is taken now.
    let text: leptos::text_prop::TextProp = location.pathname.with_untracked(|p| title(p)).into();
    view! { <Title text/> }
}

/// Plain forms, so switching works without the wasm bundle and reloads the page in the new language.
#[component]
fn LanguageSwitch() -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="lang-switch" role="group" aria-label=locale.t("nav.language")>
            {Locale::ALL
                .into_iter()
                .map(|l| {
                    let current = l == locale;
                    view! {
                        <form method="post" action=SetLanguage::PATH class="inline">
                            <input type="hidden" name="lang" value=l.tag()/>
                            <PageField/>
                            <Submit class="ghost" testid=format!("lang-{}", l.tag())>
                                <span lang=l.tag() aria-current=current.then_some("true")>{l.native_name()}</span>
                            </Submit>
                        </form>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// Notices that a redirect carries in `?notice=`; only known keys are shown.
const NOTICES: &[&str] = &[
    "registered",
    "verified",
    "signed_out",
    "reset_sent",
    "password_changed",
    "invitation_accepted",
    "invitation_sent",
    "saved",
    "retried",
    "draft_saved",
    "submitted",
    "withdrawn",
    "review_saved",
    "recused",
    "auto_assigned",
    "auto_assigned_short",
    "grant_created",
    "repair_queued",
    "enrolled",
    "waitlisted",
    "enrolment_withdrawn",
    "checked_in",
    "person_enrolled",
    "person_waitlisted",
    "attendance_saved",
    "startup_added",
    "signed_off",
    "token_revoked",
    "price_added",
    "programme_enrolled",
    "enrolment_ended",
    "statements_requested",
    "statement_moved",
    "claim_filed",
    "claim_reimbursed",
];

#[component]
fn Notice() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    move || {
        query.with(|q| q.get("notice")).and_then(|key| {
            NOTICES.contains(&key.as_str()).then(|| {
                view! {
                    <div class="banner notice" role="status" data-notice=key.clone()>
                        {locale.t(&format!("notice.{key}"))}
                    </div>
                }
            })
        })
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    /// Every route names a title of its own, translated (a new route without one fails here).
    #[tokio::test]
    async fn every_route_has_a_title_of_its_own() {
        let routes = leptos_axum::generate_route_list(App);
        let mut keys = std::collections::HashMap::new();
        for route in &routes {
            let path: String = route
                .path()
                .split('/')
                .map(|s| {
                    if s.starts_with('{') || s.starts_with(':') {
                        "7"
                    } else {
                        s
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let key = title_key(&path);
            assert_ne!(key, "title.not_found", "{path} has no title");
            for l in Locale::ALL {
                assert_ne!(l.t(key), key, "{key} is not translated");
            }
            if let Some(other) = keys.insert(key, path.clone()) {
                panic!("{path} and {other} share the title {key}");
            }
        }
        assert!(routes.len() >= 40, "{} routes", routes.len());
        assert_eq!(title_key("/nowhere/at/all"), "title.not_found");
    }
}
