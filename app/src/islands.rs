//! The only parts of a page that run in the browser. Every page is drawn on the server and
//! works without JavaScript (forms are plain forms, links plain links); the bundle carries
//! these few islands and nothing else, so a first visit downloads a few dozen kilobytes, not
//! every page's code.
//!
//! An island sees no context provided outside it (the reader's language, zone, the signed-in
//! person): what it shows comes in as its props, already translated by the server.
use leptos::prelude::*;

/// On every page, once: marks the page as taken over (`data-hydrated` on `<body>`, which tests
/// and the benchmark wait for), makes submit buttons busy while their form is being sent, and
/// moves focus to the first field at fault of a rejected form if the page did not already
/// (see `components::ErrorBanner`).
#[island]
pub fn Enhance() -> impl IntoView {
    Effect::new(move |_| {
        #[cfg(feature = "hydrate")]
        {
            browser::busy_forms();
            browser::focus_fault();
            if let Some(body) = document().body() {
                let _ = body.set_attribute("data-hydrated", "true");
            }
        }
    });
}

/// The show/hide button beside a password field (`target` is the input's id): the field
/// itself needs no script.
#[island]
pub fn PasswordToggle(target: String, show: String, hide: String) -> impl IntoView {
    let (shown, set_shown) = signal(false);
    let toggle = move |_| {
        let now = !shown.get_untracked();
        set_shown.set(now);
        #[cfg(feature = "hydrate")]
        if let Some(input) = document().get_element_by_id(&target) {
            let _ = input.set_attribute("type", if now { "text" } else { "password" });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &target;
    };
    view! {
        <button
            type="button"
            class="ghost"
            data-testid="toggle-password"
            aria-pressed=move || shown.get().to_string()
            on:click=toggle
        >
            {move || if shown.get() { hide.clone() } else { show.clone() }}
        </button>
    }
}

/// A button that prints the page (a certificate, a report). The Content-Security-Policy
/// allows no inline `onclick`, so it is an island.
#[island]
pub fn PrintButton(label: String, testid: Option<String>) -> impl IntoView {
    view! {
        <button type="button" data-testid=testid on:click=move |_| {
            #[cfg(feature = "hydrate")]
            let _ = window().print();
        }>{label}</button>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use leptos::prelude::*;
    use leptos::wasm_bindgen::{closure::Closure, JsCast};
    use leptos::web_sys::{Event, HtmlButtonElement, HtmlElement, HtmlFormElement, SubmitEvent};

    /// Once a form is submitted it is marked as submitting and its button busy and disabled; a
    /// second press is ignored until the page is left. A page restored from the back-forward
    /// cache is cleared.
    pub fn busy_forms() {
        let on_submit = Closure::<dyn Fn(SubmitEvent)>::new(|ev: SubmitEvent| {
            if ev.default_prevented() {
                return;
            }
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<HtmlFormElement>().ok())
            else {
                return;
            };
            if form.has_attribute("data-submitting") {
                ev.prevent_default();
                return;
            }
            let _ = form.set_attribute("data-submitting", "true");
            if let Some(button) = ev.submitter() {
                let _ = button.set_attribute("aria-busy", "true");
                if let Ok(button) = button.dyn_into::<HtmlButtonElement>() {
                    hold(&form, &button);
                }
            }
        });
        let on_show = Closure::<dyn Fn(Event)>::new(|_: Event| {
            let Ok(forms) = document().query_selector_all("form[data-submitting]") else {
                return;
            };
            for i in 0..forms.length() {
                let Some(form) = forms
                    .item(i)
                    .and_then(|n| n.dyn_into::<HtmlFormElement>().ok())
                else {
                    continue;
                };
                let _ = form.remove_attribute("data-submitting");
                if let Ok(Some(b)) = form.query_selector("[aria-busy]") {
                    let _ = b.remove_attribute("aria-busy");
                    if b.has_attribute("data-busy") {
                        let _ = b.remove_attribute("data-busy");
                        let _ = b.remove_attribute("disabled");
                    }
                }
                if let Ok(Some(copy)) = form.query_selector("input[data-busy-copy]") {
                    copy.remove();
                }
            }
        });
        let _ =
            window().add_event_listener_with_callback("submit", on_submit.as_ref().unchecked_ref());
        let _ =
            window().add_event_listener_with_callback("pageshow", on_show.as_ref().unchecked_ref());
        on_submit.forget();
        on_show.forget();
    }

    /// Disables the pressed button at once. The browser reads the form after this event and
    /// leaves a disabled button's own `name=value` out, so a copy of it goes in as a hidden field.
    fn hold(form: &HtmlFormElement, button: &HtmlButtonElement) {
        if button.disabled() {
            return;
        }
        let name = button.name();
        if !name.is_empty() {
            if let Ok(copy) = document().create_element("input") {
                let _ = copy.set_attribute("type", "hidden");
                let _ = copy.set_attribute("name", &name);
                let _ = copy.set_attribute("value", &button.value());
                let _ = copy.set_attribute("data-busy-copy", "true");
                let _ = form.append_child(&copy);
            }
        }
        button.set_disabled(true);
        let _ = button.set_attribute("data-busy", "true");
    }

    /// A rejected form's page marks its first field at fault `autofocus`; where that field is
    /// drawn by hand without the mark, focus goes to it (or to the error banner) here.
    pub fn focus_fault() {
        let doc = document();
        if doc.active_element().is_some_and(|e| e.tag_name() != "BODY") {
            return;
        }
        let Ok(Some(banner)) = doc.query_selector(".banner.error") else {
            return;
        };
        let target = banner
            .get_attribute("data-field")
            .filter(|f| !f.is_empty())
            .and_then(|f| doc.get_element_by_id(&format!("f-{f}")))
            .unwrap_or(banner);
        if let Ok(target) = target.dyn_into::<HtmlElement>() {
            let _ = target.focus();
        }
    }
}
