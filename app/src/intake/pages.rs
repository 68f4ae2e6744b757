//! The public landing page: what the park offers, and the intake rounds open now.
use super::server_fns::open_rounds;
use crate::components::{format_time, ErrorPage};
use crate::i18n::use_locale;
use leptos::prelude::*;

#[component]
pub fn Landing() -> impl IntoView {
    let locale = use_locale();
    let rounds = Resource::new(|| (), |_| open_rounds());
    view! {
        <section class="hero">
            <h1>{locale.t("landing.title")}</h1>
            <p class="lead">{locale.t("landing.lead")}</p>
        </section>
        <section class="rounds" aria-labelledby="open-rounds">
            <h2 id="open-rounds">{locale.t("landing.open_rounds")}</h2>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match rounds.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(list) if list.is_empty() => view! {
                            <div class="empty" data-testid="no-rounds">
                                <p>{locale.t("landing.no_rounds")}</p>
                                <p class="hint">{locale.t("landing.no_rounds_hint")}</p>
                            </div>
                        }
                        .into_any(),
                        Ok(list) => view! {
                            <ul class="round-list">
                                {list.into_iter().map(|r| view! {
                                    <li class="card" data-round=r.id>
                                        <h3>{r.title}</h3>
                                        <p>{r.description}</p>
                                        <p class="meta">{locale.t_with("landing.closes", &[("when", &format_time(&r.closes_at))])}</p>
                                    </li>
                                }).collect_view()}
                            </ul>
                        }
                        .into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
