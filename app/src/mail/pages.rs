//! The admin's outbox: every email Hatchery sent or will send, and where it went.
use super::server_fns::{get_outbox_message, outbox, RetryEmail};
use super::{OutboxRow, OUTBOX_COLUMNS};
use crate::components::{format_time, mutation, param_id, ErrorBanner, ErrorPage, Form, Submit};
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::mail::MailStatus;
use crate::tables::{query_from, FilterSelect, SortTh, TableFilters, TablePager};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn status_key(status: MailStatus) -> String {
    format!("outbox.status_{status}")
}

#[component]
pub fn OutboxPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let data = Resource::new(move || query.get(), outbox);
    const PATH: &str = "/admin/outbox";
    view! {
        <h1>{locale.t("outbox.title")}</h1>
        {move || {
            let q = query.get();
            let statuses = MailStatus::ALL
                .iter()
                .map(|k| (k.to_string(), locale.t(&status_key(*k))))
                .collect::<Vec<_>>();
            view! {
                <TableFilters path=PATH csv="/admin/outbox.csv" query=q.clone() search_label=locale.t("outbox.search")>
                    <FilterSelect name="status" label=locale.t("outbox.status") value=q.status.clone() options=statuses/>
                </TableFilters>
            }
        }}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) => {
                        let q = query.get_untracked();
                        let th = move |key: &'static str| view! { <SortTh path=PATH query=q.clone() columns=OUTBOX_COLUMNS key/> };
                        view! {
                            <section class="card">
                                {p.file_dir.clone().map(|d| view! {
                                    <p class="hint" data-testid="eml-dir">{locale.t_with("outbox.file_mode", &[("dir", &d)])}</p>
                                })}
                                <div class="table-scroll" tabindex="0"><table class="data">
                                    <thead><tr>
                                        {th("created")}
                                        {th("to")}
                                        <th>{locale.t("outbox.subject")}</th>
                                        {th("status")}
                                        {th("attempts")}
                                    </tr></thead>
                                    <tbody>
                                        {p.rows.clone().into_iter().map(|r| view! { <OutboxRowView row=r/> }).collect_view()}
                                    </tbody>
                                </table></div>
                                {p.rows.is_empty().then(|| view! { <p class="empty">{locale.t("outbox.none")}</p> })}
                                <TablePager path=PATH query=query.get_untracked() page=p.page more=p.more keys=p.keys/>
                            </section>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn OutboxRowView(row: OutboxRow) -> impl IntoView {
    let locale = use_locale();
    let retry = mutation::<RetryEmail>();
    let dead = row.status == MailStatus::Dead;
    view! {
        <tr data-status=row.status.as_str()>
            <td>{format_time(&row.created_at)}</td>
            <td>{row.to_address.clone()}</td>
            <td><a href=format!("/admin/outbox/{}", row.id)>{row.subject.clone()}</a></td>
            <td>
                <span class=format!("pill {}", row.status)>{locale.t(&status_key(row.status))}</span>
                {row.last_error.clone().map(|e| view! { <small class="error-text">{e}</small> })}
            </td>
            <td>
                {row.attempts}
                {dead.then(|| view! {
                    <Form action=retry class="inline" banner=false>
                        <input type="hidden" name="id" value=row.id/>
                        <Submit class="small secondary">{locale.t("outbox.retry")}</Submit>
                    </Form>
                })}
            </td>
        </tr>
    }
}

#[component]
pub fn OutboxMessagePage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let data = Resource::new(move || id.get(), get_outbox_message);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(m) => view! {
                        <section class="card">
                            <p><a href="/admin/outbox">{locale.t("outbox.back")}</a></p>
                            <h1>{m.row.subject.clone()}</h1>
                            <dl class="facts">
                                <dt>{locale.t("outbox.to")}</dt><dd>{m.row.to_address.clone()}</dd>
                                <dt>{locale.t("outbox.status")}</dt><dd>{locale.t(&status_key(m.row.status))}</dd>
                                <dt>{locale.t("outbox.created")}</dt><dd>{format_time(&m.row.created_at)}</dd>
                                {m.row.delivery_ref.clone().map(|d| view! { <dt>{locale.t("outbox.delivery")}</dt><dd><code>{d}</code></dd> })}
                            </dl>
                            <pre class="mail-body" data-testid="mail-body">{m.body_text.clone()}</pre>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}
