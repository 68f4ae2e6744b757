//! The document, the router and the frame around every page: header, navigation, notices.
use crate::auth::server_fns::{current_user, Logout, SetLanguage};
use crate::auth::{Me, Role};
use crate::components::NotFound;
use crate::i18n::{use_locale, Locale};
use crate::time::Zone;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes, A};
use leptos_router::hooks::{use_location, use_query_map};
use leptos_router::{path, SsrMode};

pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    let locale = current_locale();
    let zone = current_zone();
    view! {
        <!DOCTYPE html>
        <html lang=locale.tag() data-tz=zone.name()>
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
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

/// The language of this render: the request's on the server, the document's in the browser.
fn current_locale() -> Locale {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|p| crate::i18n::request_locale(&p))
            .unwrap_or_default()
    }
    #[cfg(not(feature = "ssr"))]
    {
        #[cfg(feature = "hydrate")]
        {
            document()
                .document_element()
                .and_then(|e| e.get_attribute("lang"))
                .and_then(|l| Locale::from_tag(&l))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            Locale::default()
        }
    }
}

/// The zone times are shown and read in for this render: the signed-in person's (the router
/// reads their session before a page renders), else the park's, on the server; the one the
/// server named on the document, in the browser.
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
        #[cfg(feature = "hydrate")]
        {
            document()
                .document_element()
                .and_then(|e| e.get_attribute("data-tz"))
                .and_then(|z| Zone::parse(&z))
                .unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            Zone::default()
        }
    }
}

/// The signed-in user, refetched on every navigation so sign-in and sign-out show at once.
#[derive(Clone, Copy)]
pub struct CurrentUser(pub Resource<Result<Option<Me>, crate::error::AppError>>);

pub fn use_current_user() -> CurrentUser {
    expect_context::<CurrentUser>()
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let locale = current_locale();
    provide_context(locale);
    provide_context(current_zone());

    // Marks the page once the wasm bundle has taken over (tests and scripts wait for it).
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/hatchery.css"/>
        <Title text=locale.t("app.name")/>
        <Router>
            <Frame/>
        </Router>
    }
}

#[component]
fn Frame() -> impl IntoView {
    let locale = use_locale();
    let location = use_location();
    provide_context(crate::components::DataVersion(RwSignal::new(0)));
    let me = Resource::new(
        move || (location.pathname.get(), crate::components::data_version()),
        |_| current_user(),
    );
    provide_context(CurrentUser(me));
    // The page's times were drawn in the zone the document names; once the signed-in person
    // reads another (they just signed in, or chose their own zone), the page is loaded again
    // so that every time is drawn in theirs (once: a page never reloads itself twice).
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(Ok(Some(m))) = me.get() {
            use std::sync::atomic::{AtomicBool, Ordering};
            static RELOADED: AtomicBool = AtomicBool::new(false);
            if m.zone != crate::time::use_zone().name() && !RELOADED.swap(true, Ordering::Relaxed) {
                let _ = window().location().reload();
            }
        }
    });
    view! {
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
                <Route path=path!("/admin/audit") view=crate::admin::audit_pages::AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/startups") view=crate::startups::incubation_pages::StartupsAdminPage ssr=SsrMode::Async/>
                <Route path=path!("/startups/:id") view=crate::startups::incubation_pages::StartupDetailPage ssr=SsrMode::Async/>
                <Route path=path!("/mentoring") view=crate::startups::incubation_pages::MentoringPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/users") view=crate::admin::pages::UsersPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/outbox") view=crate::mail::pages::OutboxPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/outbox/:id") view=crate::mail::pages::OutboxMessagePage ssr=SsrMode::Async/>
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
                <nav class="main-nav" aria-label=locale.t("nav.label")>
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            let me = me.await.ok().flatten();
                            view! { <NavLinks me/> }
                        })}
                    </Suspense>
                </nav>
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
                    <A href="/admin/sync">{locale.t("nav.sync")}</A>
                    <A href="/admin/users">{locale.t("nav.users")}</A>
                    <A href="/admin/outbox">{locale.t("nav.outbox")}</A>
                    <A href="/admin/audit">{locale.t("nav.audit")}</A>
                    <A href="/admin/api-tokens">{locale.t("nav.api_tokens")}</A>
                })}
                <A href="/account" attr:class="who">{me.name.clone()}</A>
                <form method="post" action=Logout::PATH class="inline">
                    <button type="submit" class="ghost" data-testid="logout">{locale.t("nav.logout")}</button>
                </form>
            }
            .into_any()
        }
    }
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
                            <button
                                type="submit"
                                class="ghost"
                                lang=l.tag()
                                aria-current=current.then_some("true")
                                data-testid=format!("lang-{}", l.tag())
                            >
                                {l.native_name()}
                            </button>
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
