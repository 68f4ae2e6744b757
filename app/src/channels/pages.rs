//! The admin's chat channels: the list, a channel's settings, its test message and its recent
//! deliveries with why any failed.
use super::server_fns::{
    get_channel, list_channels, DeleteChannel, RetryChatDelivery, SaveChannel, TestChannel,
};
use super::{ChannelEvent, ChannelView, DeliveryRow, DeliveryStatus, Platform};
use crate::components::{
    action_error, format_time, initial_checked, initial_value, mutation, param_id, ErrorBanner,
    ErrorPage, Form, Submit, TextField,
};
use crate::i18n::{use_locale, Locale};
use leptos::prelude::*;

fn platform_name(locale: Locale, p: Platform) -> String {
    locale.t(&format!("channels.platform_{}", p.as_str()))
}

/// A delivery's state, and for a failure what went wrong in the admin's words with what the
/// platform said.
#[component]
fn DeliveryState(row: DeliveryRow) -> impl IntoView {
    let locale = use_locale();
    let status = row.status.as_str();
    let failing = row.error_kind.map(|k| {
        let why = locale.t(&format!("channels.error_{}", k.as_str()));
        let detail = row.last_error.clone().unwrap_or_default();
        let retry_at = (row.status == DeliveryStatus::Pending).then(|| {
            locale.t_with(
                "channels.next_attempt",
                &[("time", &format_time(&row.next_attempt_at))],
            )
        });
        view! {
            <small class="error-text" data-error=k.as_str()>{why}</small>
            <small class="hint"><code data-testid="platform-answer">{detail}</code></small>
            {retry_at.map(|t| view! { <small class="hint">{t}</small> })}
        }
    });
    view! {
        <span class=format!("pill {status}")>{locale.t(&format!("outbox.status_{status}"))}</span>
        {failing}
    }
}

#[component]
fn ChannelForm(c: ChannelView) -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<SaveChannel>();
    let editing = c.id > 0;
    let chosen = c.events.clone();
    let platform = c.platform;
    let lang = if c.locale.is_empty() {
        locale.tag().to_string()
    } else {
        c.locale.clone()
    };
    view! {
        <Form action class="form">
            <input type="hidden" name="id" value=c.id/>
            <TextField label=locale.t("channels.name") name="name" value=c.name.clone() hint=locale.t("channels.name_hint")/>
            <div class="field">
                <label for="f-platform">{locale.t("channels.platform")}</label>
                <select id="f-platform" name="platform">
                    {Platform::ALL.iter().copied().map(|p| view! {
                        <option value=p.as_str() selected=initial_value("platform", platform.as_str().to_string()) == p.as_str()>{platform_name(locale, p)}</option>
                    }).collect_view()}
                </select>
            </div>
            <TextField
                label=locale.t("channels.webhook_url")
                name="webhook_url"
                kind="url"
                hint=if editing {
                    locale.t_with("channels.webhook_kept", &[("url", &c.webhook_hint)])
                } else {
                    locale.t("channels.webhook_hint")
                }
            />
            <TextField
                label=locale.t("channels.secret")
                name="secret"
                kind="password"
                hint={match &c.secret_hint {
                    Some(h) => locale.t_with("channels.secret_kept", &[("end", h)]),
                    None => locale.t("channels.secret_hint"),
                }}
            />
            {c.secret_hint.is_some().then(|| view! {
                <div class="field">
                    <label><input type="checkbox" name="clear_secret" value="on"/>" "{locale.t("channels.clear_secret")}</label>
                </div>
            })}
            <fieldset class="field">
                <legend>{locale.t("channels.events")}</legend>
                {ChannelEvent::SUBSCRIBABLE.into_iter().map(|e| {
                    let id = format!("ev-{}", e.as_str());
                    view! {
                        <div>
                            <input type="checkbox" id=id.clone() name=format!("events[{}]", e.as_str()) value="on" checked=initial_checked(&format!("events[{}]", e.as_str()), "on", chosen.contains(&e))/>
                            " "
                            <label for=id>{locale.t(&e.label_key())}</label>
                        </div>
                    }
                }).collect_view()}
            </fieldset>
            <div class="field">
                <label for="f-locale">{locale.t("channels.locale")}</label>
                <select id="f-locale" name="locale">
                    {[Locale::En, Locale::ZhCn].into_iter().map(|l| view! {
                        <option value=l.tag() selected=initial_value("locale", lang.to_string()) == l.tag()>{l.native_name()}</option>
                    }).collect_view()}
                </select>
            </div>
            <Submit testid="save-channel">{locale.t("form.save")}</Submit>
        </Form>
    }
}

#[component]
pub fn ChannelsPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| list_channels());
    view! {
        <h1>{locale.t("channels.title")}</h1>
        <p class="hint">{locale.t("channels.intro")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) => view! {
                        <div class="split">
                            <section class="card">
                                {list.is_empty().then(|| view! { <p class="empty">{locale.t("channels.none")}</p> })}
                                <div class="table-scroll" tabindex="0"><table class="data">
                                    <thead><tr>
                                        <th>{locale.t("channels.name")}</th>
                                        <th>{locale.t("channels.platform")}</th>
                                        <th>{locale.t("channels.events")}</th>
                                        <th>{locale.t("channels.last")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {list.into_iter().map(|c| {
                                            let events = c.events.iter().map(|e| locale.t(&e.label_key())).collect::<Vec<_>>().join(locale.t("channels.list_separator").as_str());
                                            view! {
                                                <tr data-channel=c.id>
                                                    <td><a href=format!("/admin/channels/{}", c.id)>{c.name.clone()}</a></td>
                                                    <td>{platform_name(locale, c.platform)}</td>
                                                    <td>{events}</td>
                                                    <td>
                                                        {c.last.clone().map(|row| view! { <DeliveryState row/> })}
                                                        {(c.dead > 0).then(|| view! {
                                                            <small class="error-text" data-testid="dead-count">{locale.t_count("channels.dead_count", c.dead as i64, &[])}</small>
                                                        })}
                                                    </td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table></div>
                            </section>
                            <section class="card">
                                <h2>{locale.t("channels.new_title")}</h2>
                                <ChannelForm c=ChannelView::default()/>
                            </section>
                        </div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn ChannelPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let data = Resource::new(move || id.get(), get_channel);
    let test = mutation::<TestChannel>();
    let delete = mutation::<DeleteChannel>();
    let retry_all = mutation::<RetryChatDelivery>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => {
                        let c = d.channel.clone();
                        let cid = c.id;
                        view! {
                            <p class="meta"><a href="/admin/channels">{locale.t("channels.back")}</a></p>
                            <section class="card narrow wide">
                                <h1>{c.name.clone()}</h1>
                                <p class="meta">{platform_name(locale, c.platform)}" · "<code>{c.webhook_hint.clone()}</code></p>
                                <ErrorBanner error=action_error(test)/>
                                <p class="actions">
                                    <Form action=test class="inline" banner=false>
                                        <input type="hidden" name="id" value=cid/>
                                        <Submit class="secondary" testid="test-channel">{locale.t("channels.send_test")}</Submit>
                                    </Form>
                                </p>
                                <ChannelForm c=c.clone()/>
                            </section>
                            <section class="card narrow wide">
                                <h2>{locale.t("channels.deliveries")}</h2>
                                <ErrorBanner error=action_error(retry_all)/>
                                {(c.dead > 0).then(|| view! {
                                    <Form action=retry_all class="inline" banner=false>
                                        <input type="hidden" name="channel" value=cid/>
                                        <Submit class="small secondary" testid="retry-all">{locale.t_count("channels.retry_all", c.dead as i64, &[])}</Submit>
                                    </Form>
                                })}
                                {d.deliveries.is_empty().then(|| view! { <p class="empty">{locale.t("channels.no_deliveries")}</p> })}
                                <div class="table-scroll" tabindex="0"><table class="data">
                                    <thead><tr>
                                        <th>{locale.t("outbox.created")}</th>
                                        <th>{locale.t("channels.event")}</th>
                                        <th>{locale.t("channels.message")}</th>
                                        <th>{locale.t("outbox.status")}</th>
                                        <th>{locale.t("outbox.attempts")}</th>
                                    </tr></thead>
                                    <tbody>
                                        {d.deliveries.clone().into_iter().map(|row| view! { <DeliveryLine channel=cid row/> }).collect_view()}
                                    </tbody>
                                </table></div>
                            </section>
                            <section class="card narrow wide">
                                <h2>{locale.t("channels.delete_title")}</h2>
                                <p class="hint">{locale.t("channels.delete_hint")}</p>
                                <Form action=delete class="inline" banner=false>
                                    <input type="hidden" name="id" value=cid/>
                                    <Submit class="danger" testid="delete-channel">{locale.t("channels.delete")}</Submit>
                                </Form>
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
fn DeliveryLine(channel: i64, row: DeliveryRow) -> impl IntoView {
    let locale = use_locale();
    let retry = mutation::<RetryChatDelivery>();
    let dead = row.status == DeliveryStatus::Dead;
    let id = row.id;
    view! {
        <tr data-delivery=id data-status=row.status.as_str() data-event=row.event.as_str()>
            <td>{format_time(&row.created_at)}</td>
            <td>{locale.t(&row.event.label_key())}</td>
            <td>{row.title.clone()}</td>
            <td><DeliveryState row=row.clone()/></td>
            <td>
                {row.attempts}
                {dead.then(|| view! {
                    <Form action=retry class="inline" banner=false>
                        <input type="hidden" name="channel" value=channel/>
                        <input type="hidden" name="delivery" value=id/>
                        <Submit class="small secondary">{locale.t("outbox.retry")}</Submit>
                    </Form>
                })}
            </td>
        </tr>
    }
}
