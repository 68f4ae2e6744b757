//! Server functions for accounts: thin wrappers that read the request and call the domain.
use super::types::{Invitation, UserRow};
use super::Me;
use crate::error::AppError;
use crate::tables::{TablePage, TableQuery};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Request plumbing shared by every server function: cookies, the actor, the client.
    use crate::error::{AppError, AppResult};
    use crate::i18n::{Locale, LANG_COOKIE};
    use crate::state::app_state;
    use domain::access::Actor;
    use domain::auth::sessions;
    use http::request::Parts;
    use leptos::prelude::*;

    pub const SESSION_COOKIE: &str = "hatchery_session";

    pub fn parts() -> AppResult<Parts> {
        use_context::<Parts>().ok_or(AppError::Internal)
    }

    pub use crate::i18n::cookie;

    /// The signed-in person, if any.
    pub async fn current_actor() -> AppResult<Option<Actor>> {
        let state = app_state()?;
        let parts = parts()?;
        let Some(token) = cookie(&parts, SESSION_COOKIE) else {
            return Ok(None);
        };
        let Some(cache) = parts.extensions.get::<ActorCache>() else {
            return sessions::session_actor(&state.db, &state.settings, &token).await;
        };
        // Held while the session is read, so the page's other resources wait for this
        // reading instead of repeating it.
        let mut known = cache.0.lock().await;
        if let Some(actor) = known.as_ref() {
            return Ok(actor.clone());
        }
        let actor = sessions::session_actor(&state.db, &state.settings, &token).await?;
        *known = Some(actor.clone());
        Ok(actor)
    }

    /// The signed-in person, read once per request: a page's shell, its data and its panels
    /// all ask, and each asking would otherwise read the session again. The router puts an
    /// empty one in every request.
    #[derive(Clone, Default)]
    pub struct ActorCache(std::sync::Arc<tokio::sync::Mutex<Option<Option<Actor>>>>);

    impl ActorCache {
        /// The signed-in person as already read for this request, without waiting (the app
        /// shell names their time zone before any resource runs).
        pub fn known(&self) -> Option<Actor> {
            self.0.try_lock().ok().and_then(|k| k.clone().flatten())
        }

        /// Reads the session now, so a page's shell knows whose page it renders.
        pub async fn fill(
            &self,
            db: &sea_orm::DatabaseConnection,
            settings: &crate::state::Settings,
            token: &str,
        ) {
            let mut known = self.0.lock().await;
            if known.is_none() {
                // A failure is left unknown: the page's own reading reports it.
                if let Ok(actor) = sessions::session_actor(db, settings, token).await {
                    *known = Some(actor);
                }
            }
        }
    }

    /// Forgets the request's signed-in person (after signing in or out).
    pub fn forget_actor() {
        if let Some(cache) = use_context::<Parts>()
            .as_ref()
            .and_then(|p| p.extensions.get::<ActorCache>())
        {
            if let Ok(mut known) = cache.0.try_lock() {
                *known = None;
            }
        }
    }

    pub async fn require_actor() -> AppResult<Actor> {
        current_actor().await?.ok_or(AppError::Unauthenticated)
    }

    pub fn request_locale() -> Locale {
        use_context::<Parts>()
            .map(|p| crate::i18n::request_locale(&p))
            .unwrap_or_default()
    }

    /// The client's address (see the server's `client` module).
    pub fn client_ip() -> String {
        use_context::<Parts>()
            .and_then(|p| {
                p.extensions
                    .get::<domain::client::ClientAddr>()
                    .map(|c| c.0.clone())
            })
            .unwrap_or_else(|| "unknown".into())
    }

    fn set_cookie(name: &str, value: &str, max_age_seconds: i64, http_only: bool) -> AppResult<()> {
        set_cookie_at(name, value, "/", max_age_seconds, http_only)
    }

    /// A cookie for one path only (`SameSite=Strict` when it is not `/`).
    pub fn set_cookie_at(
        name: &str,
        value: &str,
        path: &str,
        max_age_seconds: i64,
        http_only: bool,
    ) -> AppResult<()> {
        let state = app_state()?;
        let same_site = if path == "/" { "Lax" } else { "Strict" };
        let mut cookie =
            format!("{name}={value}; Path={path}; SameSite={same_site}; Max-Age={max_age_seconds}");
        if http_only {
            cookie.push_str("; HttpOnly");
        }
        if state.settings.secure_cookies {
            cookie.push_str("; Secure");
        }
        let value = http::HeaderValue::from_str(&cookie).map_err(|_| AppError::Internal)?;
        expect_context::<leptos_axum::ResponseOptions>()
            .append_header(http::header::SET_COOKIE, value);
        Ok(())
    }

    pub fn set_session_cookie(token: &str) -> AppResult<()> {
        forget_actor();
        let days = app_state()?.settings.session_days;
        set_cookie(SESSION_COOKIE, token, days * 86_400, true)
    }

    pub fn clear_session_cookie() -> AppResult<()> {
        forget_actor();
        set_cookie(SESSION_COOKIE, "", 0, true)
    }

    pub fn set_lang_cookie(locale: Locale) -> AppResult<()> {
        // Readable by scripts is harmless: it holds only the language tag.
        set_cookie(LANG_COOKIE, locale.tag(), 365 * 86_400, false)
    }

    /// Sends the browser on after a successful form, with a notice to show there.
    /// A `#part` of the address stays at its end, after the query.
    pub fn redirect_with_notice(path: &str, notice: &str) {
        let (path, part) = path.split_at(path.find('#').unwrap_or(path.len()));
        let sep = if path.contains('?') { '&' } else { '?' };
        leptos_axum::redirect(&format!("{path}{sep}notice={notice}{part}"));
    }
}

#[server(prefix = "/api", endpoint = "me")]
pub async fn current_user() -> Result<Option<Me>, AppError> {
    Ok(ssr::current_actor().await?.map(|a| a.to_me()))
}

#[server(prefix = "/api", endpoint = "register")]
pub async fn register(email: String, name: String, password: String) -> Result<(), AppError> {
    use domain::auth::accounts;
    use domain::auth::accounts::Registration;
    let state = crate::state::app_state()?;
    let locale = ssr::request_locale();
    accounts::register(
        &state.db,
        &state.settings,
        Registration {
            email,
            name,
            password,
            locale,
        },
        &ssr::client_ip(),
    )
    .await?;
    ssr::redirect_with_notice("/login", "registered");
    Ok(())
}

#[server(prefix = "/api", endpoint = "verify_email")]
pub async fn verify_email(token: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    domain::auth::accounts::verify_email(&state.db, &token).await?;
    ssr::redirect_with_notice("/login", "verified");
    Ok(())
}

/// Signs in and goes to the dashboard; returns the account's language (the page reloads in it
/// when it was drawn in another).
#[server(prefix = "/api", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<crate::i18n::Locale, AppError> {
    let state = crate::state::app_state()?;
    let ip = ssr::client_ip();
    let (token, actor) =
        domain::auth::sessions::login(&state.db, &state.settings, &email, &password, &ip).await?;
    ssr::set_session_cookie(&token)?;
    ssr::set_lang_cookie(actor.locale)?;
    leptos_axum::redirect("/dashboard");
    Ok(actor.locale)
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    if let Some(token) = ssr::cookie(&ssr::parts()?, ssr::SESSION_COOKIE) {
        domain::auth::sessions::logout(&state.db, &token).await?;
    }
    ssr::clear_session_cookie()?;
    ssr::redirect_with_notice("/", "signed_out");
    Ok(())
}

#[server(prefix = "/api", endpoint = "forgot_password")]
pub async fn forgot_password(email: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    domain::auth::passwords::request_password_reset(
        &state.db,
        &state.settings,
        &email,
        &ssr::client_ip(),
    )
    .await?;
    ssr::redirect_with_notice("/login", "reset_sent");
    Ok(())
}

#[server(prefix = "/api", endpoint = "reset_password")]
pub async fn reset_password(token: String, password: String) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    domain::auth::passwords::reset_password(&state.db, &token, &password).await?;
    ssr::redirect_with_notice("/login", "password_changed");
    Ok(())
}

#[server(prefix = "/api", endpoint = "invitation")]
pub async fn get_invitation(token: String) -> Result<Invitation, AppError> {
    let state = crate::state::app_state()?;
    domain::auth::invitations::invitation(&state.db, &token).await
}

#[server(prefix = "/api", endpoint = "accept_invitation")]
pub async fn accept_invitation(
    token: String,
    #[server(default)] name: String,
    password: String,
) -> Result<(), AppError> {
    let state = crate::state::app_state()?;
    domain::auth::invitations::accept_invitation(&state.db, &token, &name, &password).await?;
    ssr::redirect_with_notice("/login", "invitation_accepted");
    Ok(())
}

/// The header's language switch: remembered in a cookie, and on the account when signed in.
#[server(prefix = "/api", endpoint = "set_language")]
pub async fn set_language(lang: String) -> Result<(), AppError> {
    let locale = crate::i18n::Locale::from_tag(&lang)
        .ok_or_else(|| AppError::invalid("lang", "error.language_invalid"))?;
    if let Some(actor) = ssr::current_actor().await? {
        let state = crate::state::app_state()?;
        domain::auth::accounts::set_locale(&state.db, &actor, locale).await?;
    }
    ssr::set_lang_cookie(locale)?;
    Ok(())
}

#[server(prefix = "/api", endpoint = "update_account")]
pub async fn update_account(name: String, lang: String) -> Result<(), AppError> {
    let locale = crate::i18n::Locale::from_tag(&lang)
        .ok_or_else(|| AppError::invalid("lang", "error.language_invalid"))?;
    let actor = ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::auth::accounts::update_profile(&state.db, &actor, &name, locale).await?;
    ssr::set_lang_cookie(locale)?;
    ssr::redirect_with_notice("/account", "saved");
    Ok(())
}

/// The zone choice on the account page: the person's own (empty for the park's) and the park's.
#[server(prefix = "/api", endpoint = "my_time_zone")]
pub async fn my_time_zone() -> Result<(String, String), AppError> {
    let actor = ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    let own = domain::auth::accounts::own_time_zone(&state.db, &actor).await?;
    Ok((
        own.unwrap_or_default(),
        state.settings.park_zone.name().to_string(),
    ))
}

#[server(prefix = "/api", endpoint = "set_time_zone")]
pub async fn set_time_zone(#[server(default)] time_zone: String) -> Result<(), AppError> {
    let actor = ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::auth::accounts::set_time_zone(&state.db, &actor, &time_zone).await?;
    ssr::forget_actor();
    ssr::redirect_with_notice("/account", "saved");
    Ok(())
}

#[server(prefix = "/api", endpoint = "list_users")]
pub async fn list_users(query: TableQuery) -> Result<TablePage<UserRow>, AppError> {
    let actor = ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::auth::users::list_users(&state.db, &actor, &query).await
}

#[server(prefix = "/api", endpoint = "invite_user")]
pub async fn invite_user(email: String, role: String, lang: String) -> Result<(), AppError> {
    let locale = crate::i18n::Locale::from_tag(&lang)
        .ok_or_else(|| AppError::invalid("lang", "error.language_invalid"))?;
    let actor = ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    domain::auth::invitations::invite(&state.db, &state.settings, &actor, &email, &role, locale)
        .await?;
    ssr::redirect_with_notice("/admin/users", "invitation_sent");
    Ok(())
}

/// Checkboxes arrive only when ticked, so each role is an optional field.
#[server(prefix = "/api", endpoint = "set_user_roles")]
pub async fn set_user_roles(
    user_id: i64,
    #[server(default)] applicant: Option<String>,
    #[server(default)] mentor: Option<String>,
    #[server(default)] admin: Option<String>,
) -> Result<(), AppError> {
    use super::Role;
    let actor = ssr::require_actor().await?;
    let state = crate::state::app_state()?;
    let roles: Vec<Role> = [
        (applicant, Role::Applicant),
        (mentor, Role::Mentor),
        (admin, Role::Admin),
    ]
    .into_iter()
    .filter_map(|(v, r)| v.map(|_| r))
    .collect();
    domain::auth::users::set_roles(&state.db, &actor, user_id, &roles).await?;
    ssr::redirect_with_notice("/admin/users", "saved");
    Ok(())
}
