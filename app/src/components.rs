//! Small pieces every page uses: form fields, error and notice banners, status pages.
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::islands::{PasswordToggle, PrintButton as PrintIsland};
use leptos::context::Provider;
use leptos::prelude::*;

/// The translated message of a failed action, announced to screen readers. When several fields
/// are at fault, each is listed with a link to its field.
#[component]
pub fn ErrorBanner(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let locale = use_locale();
    move || {
        error.get().map(|e| {
            let field = e.field().unwrap_or("").to_string();
            // Focus lands on the first field at fault (it carries `autofocus`), else here.
            let focus = field.is_empty();
            let faults: Vec<(String, String)> = e
                .field_errors()
                .into_iter()
                .map(|(f, k)| (f.to_string(), k.to_string()))
                .collect();
            if faults.len() > 1 {
                let n = faults.len() as i64;
                view! {
                    <div class="banner error" role="alert" data-field=field tabindex="-1" autofocus=focus>
                        <p>{locale.t_count("error.fix_fields", n, &[])}</p>
                        <ul>
                            {faults.into_iter().map(|(f, k)| view! {
                                <li><a href=format!("#f-{f}") data-field=f>{locale.t(&k)}</a></li>
                            }).collect_view()}
                        </ul>
                    </div>
                }
                .into_any()
            } else {
                view! {
                    <div class="banner error" role="alert" data-field=field tabindex="-1" autofocus=focus>
                        {e.message(locale)}
                    </div>
                }
                .into_any()
            }
        })
    }
}

/// What a form's fields read from the form around them: the action's error (for each field's
/// own message and `aria-invalid`) and what was typed into the rejected submission (the page
/// is drawn again with it).
#[derive(Clone, Copy)]
pub struct FormState {
    pub error: Signal<Option<AppError>>,
    typed: StoredValue<Vec<(String, String)>>,
}

impl FormState {
    /// The message key of `name`'s fault in the last run, if it is at fault.
    pub fn fault(&self, name: &str) -> Option<String> {
        self.error.with(|e| {
            e.as_ref().and_then(|e| {
                e.field_errors()
                    .into_iter()
                    .find(|(f, _)| *f == name)
                    .map(|(_, k)| k.to_string())
            })
        })
    }

    /// Whether `name` is the field focus should land on: the first at fault.
    pub fn first_fault(&self, name: &str) -> bool {
        self.error.with(|e| {
            e.as_ref()
                .and_then(|e| e.field())
                .is_some_and(|f| f == name)
        })
    }

    /// Whether this form's submission was rejected and the page is drawn again with it.
    pub fn rejected(&self) -> bool {
        self.typed.with_value(|t| !t.is_empty())
    }

    /// What was typed into `name` in a rejected submission, to put back.
    pub fn typed(&self, name: &str) -> Option<String> {
        self.typed
            .with_value(|t| t.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }
}

/// The form's state where a field is drawn, if it is inside a [`Form`].
pub fn form_state() -> Option<FormState> {
    use_context::<FormState>()
}

/// The fields of a rejected no-JS submission, which the server attaches to the request that
/// draws the page again (see the server's `nojs` layer): the server function's path and the
/// fields as typed (passwords left out).
#[derive(Clone, Debug, Default)]
pub struct Submitted {
    pub path: String,
    pub url: String,
    pub fields: Vec<(String, String)>,
}

/// The rejected submission being drawn again, if this request is one.
pub fn submitted() -> Option<Submitted> {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Submitted>().cloned())
    }
    #[cfg(not(feature = "ssr"))]
    {
        None
    }
}

/// The address of the page a form is on, sent with it as `__page`: without JavaScript the
/// server sends the person back there (a rejected form's page is drawn at the form's own
/// `/api/…` address, so the browser's `Referer` would not lead back). The server takes the
/// field out before the server function reads the form.
#[component]
pub fn PageField() -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let fixed = submitted().map(|s| s.url);
    let value = move || {
        fixed.clone().unwrap_or_else(|| {
            let search = location.search.get();
            if search.is_empty() {
                location.pathname.get()
            } else {
                format!("{}?{search}", location.pathname.get())
            }
        })
    };
    view! { <input type="hidden" name="__page" value=value/> }
}

/// The field and value that tell one of several forms of the same action apart (a row of a
/// table, a milestone of a list): only the form whose submission was rejected shows the error
/// and what was typed, not every row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowKey {
    pub field: &'static str,
    pub value: String,
}

impl From<(&'static str, i64)> for RowKey {
    fn from((field, value): (&'static str, i64)) -> Self {
        RowKey {
            field,
            value: value.to_string(),
        }
    }
}

impl From<(&'static str, &str)> for RowKey {
    fn from((field, value): (&'static str, &str)) -> Self {
        RowKey {
            field,
            value: value.to_string(),
        }
    }
}

/// Whether a form told apart by `row` is the one a rejected submission came from: its key is
/// among the submitted fields. Without a submission (an address that carries an error), every
/// form of the action shows it, as one without a key does.
fn is_submitted_row(row: Option<&RowKey>, submitted: Option<&Submitted>) -> bool {
    match (row, submitted) {
        (Some(row), Some(s)) => s
            .fields
            .iter()
            .any(|(k, v)| k == row.field && *v == row.value),
        _ => true,
    }
}

/// Whether the page is drawn again for a rejected submission of `S` from the form told apart by
/// `row`: a collapsed part of the page that holds it is shown open.
pub fn rejected_row<S>(row: impl Into<RowKey>) -> bool
where
    S: leptos::server_fn::ServerFn,
{
    let row = row.into();
    submitted()
        .filter(|s| s.path == S::url())
        .is_some_and(|s| is_submitted_row(Some(&row), Some(&s)))
}

/// A form that runs a server action: a plain POST to the server function, which sends the
/// person back to the page (see the server's `nojs` layer); a rejected one draws the page
/// again with what was typed. Its errors are shown at its top (unless `banner` is false, where
/// one banner above serves many row forms) and at each field at fault, and focus lands on the
/// first such field. Where a page has several forms of one action, `row` tells them apart, so
/// only the rejected one shows its error and what was typed. Its [`Submit`] buttons are marked
/// busy while it is sent (see [`crate::islands::Enhance`]).
#[component]
pub fn Form<S>(
    action: ServerAction<S>,
    #[prop(optional)] class: &'static str,
    #[prop(default = true)] banner: bool,
    #[prop(optional, into)] row: Option<RowKey>,
    children: Children,
) -> impl IntoView
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    let submitted = submitted().filter(|s| s.path == S::url());
    let mine = is_submitted_row(row.as_ref(), submitted.as_ref());
    let error = if mine {
        action_error(action)
    } else {
        Signal::stored(None)
    };
    let typed = submitted
        .filter(|_| mine)
        .map(|s| s.fields)
        .unwrap_or_default();
    let state = FormState {
        error,
        typed: StoredValue::new(typed),
    };
    view! {
        <Provider value=state>
            <form method="post" action=S::url() class=class novalidate=true>
                <PageField/>
                {banner.then(|| view! { <ErrorBanner error/> })}
                {children()}
            </form>
        </Provider>
    }
    .into_any()
}

/// A form's submit button. Once its form is sent it is marked busy (`aria-busy`) and disabled,
/// so it cannot be pressed twice (see [`crate::islands::Enhance`]).
#[component]
pub fn Submit(
    #[prop(optional, into)] class: Option<String>,
    #[prop(optional, into)] testid: Option<String>,
    #[prop(optional)] name: Option<&'static str>,
    #[prop(optional)] value: Option<&'static str>,
    #[prop(optional, into)] disabled: MaybeProp<bool>,
    children: Children,
) -> impl IntoView {
    view! {
        <button
            type="submit"
            class=class
            data-testid=testid
            name=name
            value=value
            disabled=move || disabled.get().unwrap_or(false)
        >
            {children()}
        </button>
    }
}

/// Whether field `name` should take focus when the page loads: the first at fault.
pub fn autofocus(name: &'static str) -> bool {
    form_state().is_some_and(|s| s.first_fault(name))
}

/// The `aria-*` and message of field `name` at fault, read from the form around it.
fn field_fault(name: &'static str) -> (Signal<Option<String>>, String) {
    let state = form_state();
    let fault = Signal::derive(move || state.and_then(|s| s.fault(name)));
    (fault, format!("f-{name}-error"))
}

/// The message under a field at fault.
#[component]
pub fn FieldError(#[prop(into)] fault: Signal<Option<String>>, id: String) -> impl IntoView {
    let locale = use_locale();
    move || {
        fault
            .get()
            .map(|k| view! { <small class="field-error" id=id.clone()>{locale.t(&k)}</small> })
    }
}

/// The value a field starts with: what was typed into the rejected submission being drawn
/// again, else `value`. Fields drawn by hand (a select, a textarea) read theirs here too.
pub fn initial_value(name: &str, value: String) -> String {
    form_state().and_then(|s| s.typed(name)).unwrap_or(value)
}

/// Whether a checkbox or radio button named `name` (with `value`) starts checked: as it was
/// in the rejected submission being drawn again (an unchecked box is not sent), else
/// `checked`.
pub fn initial_checked(name: &str, value: &str, checked: bool) -> bool {
    match form_state().filter(|s| s.rejected()) {
        Some(s) => s.typed(name).is_some_and(|v| v == value),
        None => checked,
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
    let (fault, error_id) = field_fault(name);
    let hint_id = format!("f-{name}-hint");
    let described = described_by(
        fault,
        error_id.clone(),
        hint.is_some().then(|| hint_id.clone()),
    );
    let value = initial_value(name, value);
    view! {
        <div class="field" class:invalid=move || fault.get().is_some()>
            <label for=id.clone()>{label}</label>
            <input
                id=id
                type=kind
                name=name
                autofocus=autofocus(name)
                autocomplete=autocomplete
                value=value
                aria-invalid=move || fault.get().map(|_| "true")
                aria-describedby=move || described.get()
            />
            <FieldError fault id=error_id/>
            {hint.map(|h| view! { <small class="hint" id=hint_id>{h}</small> })}
        </div>
    }
}

/// The ids a field's `aria-describedby` names: its error (while at fault) and its hint.
pub fn described_by(
    fault: Signal<Option<String>>,
    error_id: String,
    hint_id: Option<String>,
) -> Signal<Option<String>> {
    Signal::derive(move || {
        let ids: Vec<&str> = fault
            .get()
            .map(|_| error_id.as_str())
            .into_iter()
            .chain(hint_id.as_deref())
            .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    })
}

/// `aria-invalid`, `aria-describedby` and the message for a field drawn by hand (a select, a
/// date, a number): `let f = FieldFault::of("name")`, then the attributes and `{f.message()}`.
#[derive(Clone)]
pub struct FieldFault {
    pub fault: Signal<Option<String>>,
    pub error_id: String,
}

impl FieldFault {
    pub fn of(name: &'static str) -> Self {
        let (fault, error_id) = field_fault(name);
        Self { fault, error_id }
    }

    pub fn invalid(&self) -> Signal<Option<&'static str>> {
        let fault = self.fault;
        Signal::derive(move || fault.get().map(|_| "true"))
    }

    pub fn described(&self) -> Signal<Option<String>> {
        described_by(self.fault, self.error_id.clone(), None)
    }

    pub fn message(&self) -> impl IntoView {
        view! { <FieldError fault=self.fault id=self.error_id.clone()/> }
    }
}

/// A labelled `<select>` named `name` (id `f-<name>`) of `(value, label)` options, `value`
/// chosen (or what was chosen in a rejected no-JS submission).
#[component]
pub fn SelectField(
    #[prop(into)] label: String,
    name: &'static str,
    #[prop(optional, into)] value: String,
    options: Vec<(String, String)>,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let id = format!("f-{name}");
    let (fault, error_id) = field_fault(name);
    let hint_id = format!("f-{name}-hint");
    let described = described_by(
        fault,
        error_id.clone(),
        hint.is_some().then(|| hint_id.clone()),
    );
    let chosen = initial_value(name, value);
    view! {
        <div class="field" class:invalid=move || fault.get().is_some()>
            <label for=id.clone()>{label}</label>
            <select
                id=id
                name=name
                autofocus=autofocus(name)
                aria-invalid=move || fault.get().map(|_| "true")
                aria-describedby=move || described.get()
            >
                {options.into_iter().map(|(v, l)| {
                    let selected = v == chosen;
                    view! { <option value=v selected=selected>{l}</option> }
                }).collect_view()}
            </select>
            <FieldError fault id=error_id/>
            {hint.map(|h| view! { <small class="hint" id=hint_id>{h}</small> })}
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
    let (fault, error_id) = field_fault(name);
    let hint_id = format!("f-{name}-hint");
    let described = described_by(
        fault,
        error_id.clone(),
        hint.is_some().then(|| hint_id.clone()),
    );
    let value = initial_value(name, value);
    view! {
        <div class="field" class:invalid=move || fault.get().is_some()>
            <label for=id.clone()>{label}</label>
            <textarea
                id=id
                name=name
                autofocus=autofocus(name)
                rows=rows
                aria-invalid=move || fault.get().map(|_| "true")
                aria-describedby=move || described.get()
            >
                {textarea_text(value)}
            </textarea>
            <FieldError fault id=error_id/>
            {hint.map(|h| view! { <small class="hint" id=hint_id>{h}</small> })}
        </div>
    }
}

/// A password input with a show/hide button (the button is an island; the field needs no
/// script).
#[component]
pub fn PasswordField(
    #[prop(into)] label: String,
    #[prop(default = "password")] name: &'static str,
    #[prop(default = "current-password")] autocomplete: &'static str,
    #[prop(optional, into)] hint: Option<String>,
) -> impl IntoView {
    let locale = use_locale();
    let id = format!("f-{name}");
    let (fault, error_id) = field_fault(name);
    let hint_id = format!("f-{name}-hint");
    let described = described_by(
        fault,
        error_id.clone(),
        hint.is_some().then(|| hint_id.clone()),
    );
    view! {
        <div class="field" class:invalid=move || fault.get().is_some()>
            <label for=id.clone()>{label}</label>
            <div class="password-row">
                <input
                    id=id.clone()
                    type="password"
                    name=name
                    autocomplete=autocomplete
                    autofocus=autofocus(name)
                    aria-invalid=move || fault.get().map(|_| "true")
                    aria-describedby=move || described.get()
                />
                <PasswordToggle target=id show=locale.t("form.show") hide=locale.t("form.hide")/>
            </div>
            <FieldError fault id=error_id/>
            {hint.map(|h| view! { <small class="hint" id=hint_id>{h}</small> })}
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
    let me = crate::current_user::use_current_user().0;
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

/// A button that prints the page (a certificate, a report).
#[component]
pub fn PrintButton(#[prop(optional)] testid: Option<&'static str>) -> impl IntoView {
    let label = use_locale().t("certificate.print");
    view! { <PrintIsland label testid=testid.map(String::from)/> }
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

/// A server action, for the error of its last run: after a rejected submission the page is
/// drawn again at the action's address and the action reads the error from it.
pub fn mutation<S>() -> ServerAction<S>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    ServerAction::<S>::new()
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

#[cfg(test)]
mod row_tests {
    use super::*;

    fn sent(fields: &[(&str, &str)]) -> Submitted {
        Submitted {
            path: "/api/decide".into(),
            url: "/admin/rounds/1/decisions".into(),
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    #[test]
    fn only_the_row_a_rejected_submission_came_from_is_its_own() {
        let s = sent(&[("application_id", "7"), ("decision", "maybe")]);
        let seven = RowKey::from(("application_id", 7));
        let eight = RowKey::from(("application_id", 8));
        assert!(is_submitted_row(Some(&seven), Some(&s)));
        assert!(!is_submitted_row(Some(&eight), Some(&s)));
        // The same value in another field is not the key.
        assert!(!is_submitted_row(Some(&RowKey::from(("id", 7))), Some(&s)));
        // Forms without a key, and pages drawn without a submission, show the error as before.
        assert!(is_submitted_row(None, Some(&s)));
        assert!(is_submitted_row(Some(&eight), None));
    }
}
