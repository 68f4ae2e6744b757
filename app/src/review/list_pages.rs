//! The admin's list of every application across intake rounds (/admin/applications).
use super::server_fns::all_applications;
use super::APPLICATION_COLUMNS;
use crate::cohorts::pick;
use crate::components::{format_time, ErrorBanner, ErrorPage};
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::tables::{query_from, FilterSelect, SortTh, TableFilters, TablePager};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// Applications of every round: search by startup, filter by status and round, sort, a page
/// at a time, CSV of the filtered rows.
#[component]
pub fn ApplicationsPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let data = Resource::new(move || query.get(), all_applications);
    const PATH: &str = "/admin/applications";
    view! {
        <h1>{locale.t("applications.admin_title")}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! {
                        <TableFilters path=PATH csv="/admin/applications.csv" query=query.get_untracked() search_label=locale.t("grants.search")/>
                        <ErrorBanner error=Signal::derive(move || Some(e.clone()))/>
                    }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok((p, rounds)) => {
                        let q = query.get_untracked();
                        let statuses = super::listing_statuses()
                            .iter()
                            .map(|k| (k.to_string(), locale.t(&k.label_key())))
                            .collect::<Vec<_>>();
                        let rounds = rounds
                            .into_iter()
                            .map(|(id, en, zh)| (id.to_string(), pick(locale, &en, &zh).to_string()))
                            .collect::<Vec<_>>();
                        let th = {
                            let q = q.clone();
                            move |key: &'static str| view! { <SortTh path=PATH query=q.clone() columns=APPLICATION_COLUMNS key/> }
                        };
                        view! {
                            <TableFilters path=PATH csv="/admin/applications.csv" query=q.clone() search_label=locale.t("grants.search")>
                                <FilterSelect name="status" label=locale.t("outbox.status") value=q.status.clone() options=statuses/>
                                <FilterSelect name="of" label=locale.t("applications.round") value=q.of.clone() options=rounds/>
                            </TableFilters>
                            {p.rows.is_empty().then(|| view! { <p class="empty">{locale.t("applications.none_admin")}</p> })}
                            <div class="table-scroll" tabindex="0"><table class="data card" data-testid="applications">
                                <thead><tr>
                                    {th("startup")}
                                    <th>{locale.t("applications.round")}</th>
                                    {th("status")}
                                    {th("hours")}
                                    <th class="num">{locale.t("applications.reviews")}</th>
                                    {th("submitted")}
                                    {th("decided")}
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|a| view! {
                                        <tr data-application=a.id data-status=a.status.as_str()>
                                            <td><a href=format!("/startups/{}", a.startup_id)>{a.startup_name}</a></td>
                                            <td><a href=format!("/admin/rounds/{}/applications", a.round_id)>{pick(locale, &a.round_title_en, &a.round_title_zh).to_string()}</a></td>
                                            <td><span class=format!("pill {}", a.status)>{locale.t(&a.status.label_key())}</span></td>
                                            <td class="num">{format!("{} · {}", a.gpu_hours, a.gpu_model)}</td>
                                            <td class="num">{format!("{} / {}", a.reviews_submitted, a.reviews_assigned)}</td>
                                            <td>{a.submitted_at.as_ref().map(format_time).unwrap_or_default()}</td>
                                            <td>{a.decided_at.as_ref().map(format_time).unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table></div>
                            <TablePager path=PATH query=query.get_untracked() page=p.page more=p.more keys=p.keys/>
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
