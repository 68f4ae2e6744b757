//! API tokens (admins): issue one (shown once), see when each was last used, revoke.
use super::server_fns::{get_api_tokens, IssueApiToken, RevokeApiToken};
use super::TokenScope;
use crate::components::{
    action_error, format_time, initial_value, mutation, ErrorBanner, ErrorPage, Form, Submit,
    TextField,
};
use crate::i18n::use_locale;
use leptos::prelude::*;

#[component]
pub fn ApiTokensPage() -> impl IntoView {
    let locale = use_locale();
    let issue = mutation::<IssueApiToken>();
    let revoke = mutation::<RevokeApiToken>();
    let tokens = Resource::new(|| (), |_| get_api_tokens());
    let issued = move || issue.value().get().and_then(|r| r.ok());
    view! {
        <h1>{locale.t("tokens.title")}</h1>
        <p class="lead">{locale.t("tokens.lead")}</p>
        <div class="split">
            <section class="card">
                <ErrorBanner error=action_error(revoke)/>
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match tokens.await {
                            Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                            Ok(t) => {
                                let shown = issued().or(t.fresh.clone());
                                view! {
                                    {shown.map(|token| view! {
                                        <div class="banner notice" role="status">
                                            <p>{locale.t("tokens.copy_now")}</p>
                                            <code class="token" data-testid="new-token">{token}</code>
                                        </div>
                                    })}
                                    {t.tokens.is_empty().then(|| view! { <p class="empty">{locale.t("tokens.none")}</p> })}
                                    {(!t.tokens.is_empty()).then(|| view! {
                                        <div class="table-scroll" tabindex="0"><table class="data">
                                            <thead><tr>
                                                <th>{locale.t("tokens.name")}</th>
                                                <th>{locale.t("tokens.scope")}</th>
                                                <th>{locale.t("tokens.issued")}</th>
                                                <th>{locale.t("tokens.last_used")}</th>
                                                <th></th>
                                            </tr></thead>
                                            <tbody>
                                                {t.tokens.into_iter().map(|row| view! {
                                                    <tr data-token=row.id>
                                                        <td>{row.name.clone()} <br/><code class="meta">{format!("{}…", row.prefix)}</code></td>
                                                        <td>{locale.t(&format!("tokens.scope_{}", row.scope))}</td>
                                                        <td>{format_time(&row.created_at)} <br/><span class="meta">{row.created_by.clone()}</span></td>
                                                        <td>{row.last_used_at.map(|t| format_time(&t)).unwrap_or_else(|| locale.t("tokens.never"))}</td>
                                                        <td>
                                                            {match row.revoked_at {
                                                                Some(at) => view! { <span class="pill dead">{locale.t_with("tokens.revoked_at", &[("time", &format_time(&at))])}</span> }.into_any(),
                                                                None => view! {
                                                                    <Form action=revoke class="inline" banner=false>
                                                                        <input type="hidden" name="id" value=row.id/>
                                                                        <Submit class="ghost small" testid="revoke-token">{locale.t("tokens.revoke")}</Submit>
                                                                    </Form>
                                                                }.into_any(),
                                                            }}
                                                        </td>
                                                    </tr>
                                                }).collect_view()}
                                            </tbody>
                                        </table></div>
                                    })}
                                }.into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
            <section class="card">
                <h2>{locale.t("tokens.issue")}</h2>
                <Form action=issue class="form">
                    <TextField label=locale.t("tokens.name") name="name" hint=locale.t("tokens.name_hint")/>
                    <div class="field">
                        <label for="f-scope">{locale.t("tokens.scope")}</label>
                        <select id="f-scope" name="scope">
                            {TokenScope::ALL.iter().map(|s| view! {
                                <option value=s.as_str() selected=initial_value("scope", String::new()) == s.as_str()>{locale.t(&format!("tokens.scope_{s}"))}</option>
                            }).collect_view()}
                        </select>
                    </div>
                    <Submit testid="issue-token">{locale.t("tokens.issue")}</Submit>
                </Form>
                <p class="hint">{locale.t("tokens.docs")} " " <a href="/api/v1/openapi.json">"/api/v1/openapi.json"</a></p>
            </section>
        </div>
    }
}
