//! Small pieces every page uses: form fields, error and notice banners, status pages.
use crate::error::AppError;
use crate::i18n::use_locale;
use leptos::prelude::*;

/// The translated message of a failed action, announced to screen readers.
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let locale = use_locale();
    move || {
        error.get().map(|e| {
            let field = e.field().unwrap_or("").to_string();
            view! {
                <div class="banner error" role="alert" data-field=field>
                    {e.message(locale)}
                </div>
            }
        })
    }
}

/// The error of the last run of a server action, if it failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(|r| r.err()))
}

#[component]
pub fn TextField(
    #[prop(into)] label: String,
    name: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(default = "off")] autocomplete: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let id = format!("f-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id type=kind name=name autocomplete=autocomplete value=value/>
            {hint.map(|h| view! { <small class="hint">{h}</small> })}
        </div>
    }
}

/// The text inside a `<textarea>`, safe to put there. Leptos writes a textarea's children into
/// the server's HTML without escaping them (as raw text), so a stored `</textarea><script>`
/// would end the field and run; on the server the text is escaped here, and the browser
/// decodes it back into the field's value. In the browser the text goes into the DOM as is.
pub fn textarea_text(text: impl Into<String>) -> String {
    let text = text.into();
    if cfg!(feature = "ssr") {
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                c => out.push(c),
            }
        }
        out
    } else {
        text
    }
}

/// A labelled multi-line field named `name` (its id is `f-<name>`).
#[component]
pub fn TextArea(
    #[prop(into)] label: String,
    name: &'static str,
    #[prop(optional, into)] value: String,
    #[prop(default = 5)] rows: u32,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let id = format!("f-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <textarea id=id name=name rows=rows>{textarea_text(value)}</textarea>
            {hint.map(|h| view! { <small class="hint">{h}</small> })}
        </div>
    }
}

/// A password input with a show/hide button (the button needs the wasm bundle; the field does not).
#[component]
pub fn PasswordField(
    #[prop(into)] label: String,
    #[prop(default = "password")] name: &'static str,
    #[prop(default = "current-password")] autocomplete: &'static str,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let locale = use_locale();
    let (shown, set_shown) = signal(false);
    let id = format!("f-{name}");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <div class="password-row">
                <input
                    id=id
                    type=move || if shown.get() { "text" } else { "password" }
                    name=name
                    autocomplete=autocomplete
                />
                <button
                    type="button"
                    class="ghost"
                    data-testid="toggle-password"
                    aria-pressed=move || shown.get().to_string()
                    on:click=move |_| set_shown.update(|s| *s = !*s)
                >
                    {move || if shown.get() { locale.t("form.hide") } else { locale.t("form.show") }}
                </button>
            </div>
            {hint.map(|h| view! { <small class="hint">{h}</small> })}
        </div>
    }
}

/// A page that could not be shown, with the reason and, on the server, the matching status.
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    let locale = use_locale();
    #[cfg(feature = "ssr")]
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
        opts.set_status(error.status());
    }
    let sign_in = matches!(error, AppError::Unauthenticated);
    view! {
        <section class="card narrow status-page">
            <h1>{error.message(locale)}</h1>
            {sign_in.then(|| view! { <p><a class="button" href="/login">{locale.t("nav.login")}</a></p> })}
            <p><a href="/">{locale.t("error.back_home")}</a></p>
        </section>
    }
}

/// Shows `children` to admins only; anyone else gets the refusal other admin pages give (sign
/// in first, or 403), instead of an empty admin form.
#[component]
pub fn AdminOnly(children: ChildrenFn) -> impl IntoView {
    let me = crate::shell::use_current_user().0;
    view! {
        <Transition fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move {
                    match me.await {
                        Ok(Some(m)) if m.has(crate::auth::Role::Admin) => children().into_any(),
                        Ok(Some(_)) => view! { <ErrorPage error=AppError::Forbidden/> }.into_any(),
                        Ok(None) => view! { <ErrorPage error=AppError::Unauthenticated/> }.into_any(),
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    }
                })
            }}
        </Transition>
    }
}

/// A button that prints the page (a certificate, a report). Wired by the wasm bundle: the
/// Content-Security-Policy allows no inline `onclick`.
#[component]
pub fn PrintButton(#[prop(optional)] testid: Option<&'static str>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <button type="button" data-testid=testid on:click=move |_| {
            #[cfg(feature = "hydrate")]
            let _ = window().print();
        }>{locale.t("certificate.print")}</button>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    view! { <ErrorPage error=AppError::NotFound/> }
}

/// A numeric route parameter (`:id`); 0 when absent or malformed, which no row has.
pub fn param_id(name: &'static str) -> Memo<i64> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| {
        params.with(|p| p.get(name).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0))
    })
}

/// Formats an instant for the person reading the page: in their zone, to the minute, the zone
/// named (`2026-12-06 18:30 CST`).
pub fn format_time(t: &chrono::DateTime<chrono::Utc>) -> String {
    crate::time::use_zone().format(t)
}

/// The time of day only (`18:30`) in the reader's zone, e.g. a session's end after its start.
pub fn format_clock(t: &chrono::DateTime<chrono::Utc>) -> String {
    crate::time::use_zone().format_clock(t)
}

/// The local day of an instant (`2026-12-06`) in the reader's zone.
pub fn format_day(t: &chrono::DateTime<chrono::Utc>) -> String {
    crate::time::use_zone()
        .date(t)
        .format("%Y-%m-%d")
        .to_string()
}

/// The hint under a time field: the zone it is read in (the reader's).
pub fn zone_hint() -> String {
    use_locale().t_with(
        "time.zone_hint",
        &[("zone", crate::time::use_zone().name())],
    )
}

/// Previous/next links that keep the other query parameters.
#[component]
pub fn Pager(base: String, page: u64, per_page: u64, total: u64) -> impl IntoView {
    let locale = use_locale();
    let pages = total.div_ceil(per_page.max(1)).max(1);
    let sep = if base.contains('?') { "&" } else { "?" };
    let prev = (page > 0).then(|| format!("{base}{sep}page={}", page - 1));
    let next = (page + 1 < pages).then(|| format!("{base}{sep}page={}", page + 1));
    view! {
        <nav class="pager" aria-label=locale.t("pager.label")>
            {prev.map(|href| view! { <a href=href rel="prev">{locale.t("pager.prev")}</a> })}
            <span>
                {locale.t_with(
                    "pager.status",
                    &[("page", &(page + 1).to_string()), ("pages", &pages.to_string()), ("total", &total.to_string())],
                )}
            </span>
            {next.map(|href| view! { <a href=href rel="next">{locale.t("pager.next")}</a> })}
        </nav>
    }
}

/// Bumped after every successful action, so every page's data is fetched again: a change
/// made by one form shows everywhere at once, even when the redirect lands on the same URL.
#[derive(Clone, Copy)]
pub struct DataVersion(pub RwSignal<u64>);

/// The current data version; reading it inside a resource's source makes it refetch on change.
pub fn data_version() -> u64 {
    use_context::<DataVersion>().map(|v| v.0.get()).unwrap_or(0)
}

/// A server action that refreshes the page's data when it succeeds.
pub fn mutation<S>() -> ServerAction<S>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let action = ServerAction::<S>::new();
    if let Some(DataVersion(version)) = use_context::<DataVersion>() {
        Effect::new(move |_| {
            if matches!(action.value().get(), Some(Ok(_))) {
                version.update(|n| *n += 1);
            }
        });
    }
    action
}

/// A choice of language, named `lang` in its form, for example the language of an email.
#[component]
pub fn LocaleSelect(
    id: &'static str,
    label: String,
    selected: crate::i18n::Locale,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <select id=id name="lang">
                {crate::i18n::Locale::ALL.into_iter().map(|l| view! {
                    <option value=l.tag() selected=l == selected>{l.native_name()}</option>
                }).collect_view()}
            </select>
        </div>
    }
}
