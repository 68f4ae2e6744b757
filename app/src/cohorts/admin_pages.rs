//! The admin's cohorts: the list with fill rates, one cohort's settings, sessions, roster
//! and attendance chart, and a session's attendance screen.
use super::pages::{places_line, StatusPill};
use super::server_fns::{
    admin_cohorts, get_cohort_admin, get_session_roster, AddSession, AdminEnrol, DeleteSession,
    MarkAttendance, RemoveEnrolment, SaveCohort,
};
use super::{
    AttendanceSource, CohortAdmin, CohortForm, SessionView, Track, COHORT_COLUMNS, PHASES,
};
use crate::cohorts::EnrolmentStatus;
use crate::components::{
    action_error, format_time, initial_value, mutation, param_id, AdminOnly, ErrorBanner,
    ErrorPage, Form, Submit, TextArea, TextField,
};
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::tables::{query_from, FilterSelect, SortTh, TableFilters, TablePager};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn percent(part: i64, whole: i64) -> i64 {
    if whole <= 0 {
        0
    } else {
        part * 100 / whole
    }
}

#[component]
pub fn AdminCohortsPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let cohorts = Resource::new(move || query.get(), admin_cohorts);
    const PATH: &str = "/admin/cohorts";
    view! {
        <div class="title-row">
            <h1>{locale.t("cohorts.admin_title")}</h1>
            <a class="button" href="/admin/cohorts/new" data-testid="new-cohort">{locale.t("cohorts.new")}</a>
        </div>
        {move || {
            let q = query.get();
            let phases = PHASES
                .iter()
                .map(|k| (k.to_string(), locale.t(&format!("cohorts.phase_{k}"))))
                .collect::<Vec<_>>();
            let tracks = Track::ALL
                .iter()
                .map(|k| (k.to_string(), locale.t(&format!("track.{k}"))))
                .collect::<Vec<_>>();
            view! {
                <TableFilters path=PATH csv="/admin/cohorts.csv" query=q.clone() search_label=locale.t("cohorts.search")>
                    <FilterSelect name="status" label=locale.t("cohorts.phase") value=q.status.clone() options=phases/>
                    <FilterSelect name="of" label=locale.t("cohorts.track") value=q.of.clone() options=tracks/>
                </TableFilters>
            }
        }}
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match cohorts.await {
                    Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) if p.rows.is_empty() && p.page == 0 => view! {
                        <div class="empty"><p>{locale.t("cohorts.none_admin")}</p></div>
                    }.into_any(),
                    Ok(p) => {
                        let q = query.get_untracked();
                        let th = move |key: &'static str| view! { <SortTh path=PATH query=q.clone() columns=COHORT_COLUMNS key/> };
                        view! {
                            <div class="table-scroll" tabindex="0"><table class="data card">
                                <thead><tr>
                                    {th("title")}
                                    {th("track")}
                                    {th("starts")}
                                    {th("capacity")}
                                    <th>{locale.t("cohorts.fill_rate")}</th>
                                    <th>{locale.t("cohorts.waitlist")}</th>
                                    <th>{locale.t("cohorts.completed")}</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|c| {
                                        let fill = percent(c.taken(), i64::from(c.capacity));
                                        view! {
                                            <tr data-cohort=c.id>
                                                <td><a href=format!("/admin/cohorts/{}", c.id)>{c.title(locale)}</a></td>
                                                <td>{locale.t(&format!("track.{}", c.track))}</td>
                                                <td>{c.starts_on.format("%Y-%m-%d").to_string()} " – " {c.ends_on.format("%Y-%m-%d").to_string()}</td>
                                                <td class="num">{c.capacity}</td>
                                                <td>
                                                    <meter min="0" max=c.capacity value=c.taken()></meter>
                                                    " " {format!("{} / {} ({fill} %)", c.taken(), c.capacity)}
                                                </td>
                                                <td>{c.waitlisted}</td>
                                                <td>{c.completed}</td>
                                            </tr>
                                        }
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

#[component]
pub fn NewCohortPage() -> impl IntoView {
    let locale = use_locale();
    let form = CohortForm {
        track: Track::ALL[0].to_string(),
        capacity: "30".into(),
        completion_percent: "80".into(),
        ..Default::default()
    };
    view! {
        <AdminOnly>
            <p class="meta"><a href="/admin/cohorts">{locale.t("cohorts.back_admin")}</a></p>
            <section class="card narrow wide">
                <h1>{locale.t("cohorts.new")}</h1>
                <CohortSettings form=form.clone()/>
            </section>
        </AdminOnly>
    }
}

#[component]
fn CohortSettings(form: CohortForm) -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<SaveCohort>();
    let track = form.track.clone();
    view! {
        <Form action class="form">
            <input type="hidden" name="id" value=form.id/>
            <div class="row">
                <TextField label=locale.t("cohorts.title_en") name="title_en" value=form.title_en.clone()/>
                <TextField label=locale.t("cohorts.title_zh") name="title_zh" value=form.title_zh.clone()/>
            </div>
            <div class="field">
                <label for="f-track">{locale.t("cohorts.track")}</label>
                <select id="f-track" name="track">
                    {Track::ALL.iter().map(|t| view! {
                        <option value=t.as_str() selected=initial_value("track", track.as_str().to_string()) == t.as_str()>{locale.t(&format!("track.{t}"))}</option>
                    }).collect_view()}
                </select>
            </div>
            <TextArea label=locale.t("cohorts.description_en") name="description_en" value=form.description_en.clone() rows=4/>
            <TextArea label=locale.t("cohorts.description_zh") name="description_zh" value=form.description_zh.clone() rows=4/>
            <div class="row">
                <TextField label=locale.t("cohorts.capacity") name="capacity" kind="number" value=form.capacity.clone()/>
                <TextField label=locale.t("cohorts.completion_percent") name="completion_percent" kind="number" value=form.completion_percent.clone() hint=locale.t("cohorts.completion_hint")/>
            </div>
            <div class="row">
                <TextField label=locale.t("cohorts.enrol_opens_at") name="enrol_opens_at" kind="datetime-local" value=form.enrol_opens_at.clone() hint=crate::components::zone_hint()/>
                <TextField label=locale.t("cohorts.enrol_closes_at") name="enrol_closes_at" kind="datetime-local" value=form.enrol_closes_at.clone() hint=crate::components::zone_hint()/>
            </div>
            <div class="row">
                <TextField label=locale.t("cohorts.starts_on") name="starts_on" kind="date" value=form.starts_on.clone()/>
                <TextField label=locale.t("cohorts.ends_on") name="ends_on" kind="date" value=form.ends_on.clone()/>
            </div>
            <TextField label=locale.t("cohorts.location") name="location" value=form.location.clone() hint=locale.t("cohorts.location_hint")/>
            <Submit testid="save-cohort">{locale.t("form.save")}</Submit>
        </Form>
    }
}

/// Attendance per session, as bars of the people present against the places taken.
#[component]
pub fn AttendanceChart(sessions: Vec<SessionView>, taken: i64) -> impl IntoView {
    let locale = use_locale();
    const W: f64 = 640.0;
    const H: f64 = 180.0;
    const LEFT: f64 = 36.0;
    const BOTTOM: f64 = 24.0;
    const TOP: f64 = 14.0;
    let n = sessions.len().max(1) as f64;
    let slot = (W - LEFT - 8.0) / n;
    let bar = (slot * 0.7).min(48.0);
    let most = sessions
        .iter()
        .map(|s| s.present)
        .max()
        .unwrap_or(0)
        .max(taken)
        .max(1) as f64;
    let height = |v: i64| (v as f64 / most) * (H - TOP - BOTTOM);
    let label = locale.t("cohorts.attendance_chart");
    let bars = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let x = LEFT + slot * i as f64 + (slot - bar) / 2.0;
            let h = height(s.present);
            let y = H - BOTTOM - h;
            let title = format!("{} · {}: {}", crate::components::format_day(&s.starts_at), s.topic, s.present);
            view! {
                <g data-session=s.id data-present=s.present>
                    <rect x=format!("{x:.1}") y=format!("{y:.1}") width=format!("{bar:.1}") height=format!("{h:.1}") class="bar"><title>{title}</title></rect>
                    <text x=format!("{:.1}", x + bar / 2.0) y=format!("{:.1}", y - 3.0) text-anchor="middle" class="tick">{s.present}</text>
                    <text x=format!("{:.1}", x + bar / 2.0) y=H - 8.0 text-anchor="middle" class="tick">{crate::components::format_day(&s.starts_at)[5..].to_string()}</text>
                </g>
            }
        })
        .collect_view();
    let capacity_y = H - BOTTOM - height(taken);
    view! {
        <figure class="chart" data-testid="attendance-chart">
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=label preserveAspectRatio="xMidYMid meet">
                <line x1=LEFT y1=TOP x2=LEFT y2=H - BOTTOM class="axis"/>
                <line x1=LEFT y1=H - BOTTOM x2=W - 8.0 y2=H - BOTTOM class="axis"/>
                <line x1=LEFT y1=format!("{capacity_y:.1}") x2=W - 8.0 y2=format!("{capacity_y:.1}") class="today"/>
                <text x=LEFT - 4.0 y=format!("{:.1}", capacity_y + 4.0) text-anchor="end" class="tick">{taken}</text>
                {bars}
            </svg>
            <figcaption>{locale.t_count("cohorts.attendance_caption", taken, &[])}</figcaption>
        </figure>
    }
}

#[component]
pub fn AdminCohortPage() -> impl IntoView {
    let id = param_id("id");
    let data = Resource::new(move || id.get(), get_cohort_admin);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(a) => view! { <CohortAdminView a/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CohortAdminView(a: CohortAdmin) -> impl IntoView {
    let locale = use_locale();
    let c = a.detail.card.clone();
    let id = c.id;
    let fill = percent(c.taken(), i64::from(c.capacity));
    let sessions = a.detail.sessions.clone();
    // Each part is type-erased: one nested view type of the whole page would be too deep.
    let stats = view! {
        <div class="grid stats">
            <div class="card stat"><span class="meta">{locale.t("cohorts.fill_rate")}</span><strong data-testid="fill-rate">{format!("{fill} %")}</strong><small>{places_line(locale, &c)}</small></div>
            <div class="card stat"><span class="meta">{locale.t("cohorts.waitlist")}</span><strong data-testid="waitlist-count">{c.waitlisted}</strong></div>
            <div class="card stat"><span class="meta">{locale.t("cohorts.completed")}</span><strong data-testid="completed-count">{c.completed}</strong></div>
        </div>
    }
    .into_any();
    let chart = (!sessions.is_empty())
        .then(|| view! { <AttendanceChart sessions=sessions.clone() taken=c.taken()/> }.into_any());
    let sessions_card = view! {
        <section class="card">
            <h2>{locale.t("cohorts.sessions")}</h2>
            {chart}
            <Sessions cohort_id=id sessions=sessions.clone()/>
        </section>
    }
    .into_any();
    let roster_card = view! {
        <section class="card">
            <h2>{locale.t("cohorts.roster")}</h2>
            <Roster cohort_id=id rows=a.roster.clone()/>
        </section>
    }
    .into_any();
    let settings_card = view! {
        <section class="card">
            <h2>{locale.t("cohorts.settings")}</h2>
            <CohortSettings form=a.form.clone()/>
        </section>
    }
    .into_any();
    view! {
        <p class="meta">
            <a href="/admin/cohorts">{locale.t("cohorts.back_admin")}</a> " · "
            <a href=format!("/cohorts/{id}")>{locale.t("cohorts.public_page")}</a>
        </p>
        <h1 data-testid="cohort-title">{c.title(locale)}</h1>
        {stats}
        <div class="split">
            <div class="stack">{sessions_card}{roster_card}</div>
            {settings_card}
        </div>
    }
}

#[component]
fn Sessions(cohort_id: i64, sessions: Vec<SessionView>) -> impl IntoView {
    let locale = use_locale();
    let add = mutation::<AddSession>();
    let delete = mutation::<DeleteSession>();
    view! {
        <ErrorBanner error=action_error(delete)/>
        {sessions.is_empty().then(|| view! { <p class="empty">{locale.t("cohorts.no_sessions")}</p> })}
        {(!sessions.is_empty()).then(|| view! {
            <div class="table-scroll" tabindex="0"><table class="data">
                <thead><tr>
                    <th>{locale.t("cohorts.session_time")}</th>
                    <th>{locale.t("cohorts.topic")}</th>
                    <th>{locale.t("cohorts.instructor")}</th>
                    <th>{locale.t("cohorts.checkin_code")}</th>
                    <th>{locale.t("cohorts.present")}</th>
                    <th></th>
                </tr></thead>
                <tbody>
                    {sessions.into_iter().map(|s| view! {
                        <tr data-session=s.id>
                            <td>{format_time(&s.starts_at)} " – " {crate::components::format_clock(&s.ends_at)}</td>
                            <td>{s.topic.clone()}</td>
                            <td>{s.instructor.clone()}</td>
                            <td><code data-testid="checkin-code">{s.checkin_code.clone().unwrap_or_default()}</code></td>
                            <td>{s.present}</td>
                            <td class="actions">
                                <a href=format!("/admin/sessions/{}", s.id) data-testid="take-attendance">{locale.t("cohorts.take_attendance")}</a>
                                <Form action=delete class="inline" banner=false>
                                    <input type="hidden" name="session_id" value=s.id/>
                                    <Submit class="ghost small">{locale.t("cohorts.delete_session")}</Submit>
                                </Form>
                            </td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table></div>
        })}
        <h3>{locale.t("cohorts.add_session")}</h3>
        <Form action=add class="form">
            <input type="hidden" name="cohort_id" value=cohort_id/>
            <div class="row">
                <TextField label=locale.t("cohorts.session_starts") name="starts_at" kind="datetime-local" hint=crate::components::zone_hint()/>
                <TextField label=locale.t("cohorts.session_ends") name="ends_at" kind="datetime-local" hint=crate::components::zone_hint()/>
            </div>
            <div class="row">
                <TextField label=locale.t("cohorts.topic") name="topic"/>
                <TextField label=locale.t("cohorts.instructor") name="instructor"/>
            </div>
            <Submit class="secondary" testid="add-session">{locale.t("cohorts.add_session")}</Submit>
        </Form>
    }
}

#[component]
fn Roster(cohort_id: i64, rows: Vec<super::RosterRow>) -> impl IntoView {
    let locale = use_locale();
    let add = mutation::<AdminEnrol>();
    let remove = mutation::<RemoveEnrolment>();
    let mut waiting = 0;
    view! {
        <ErrorBanner error=action_error(remove)/>
        {rows.is_empty().then(|| view! { <p class="empty">{locale.t("cohorts.roster_empty")}</p> })}
        {(!rows.is_empty()).then(|| view! {
            <div class="table-scroll" tabindex="0"><table class="data">
                <thead><tr>
                    <th>{locale.t("field.name")}</th>
                    <th>{locale.t("field.email")}</th>
                    <th>{locale.t("cohorts.status")}</th>
                    <th>{locale.t("cohorts.attended")}</th>
                    <th></th>
                </tr></thead>
                <tbody>
                    {rows.into_iter().map(|r| {
                        let position = (r.status == EnrolmentStatus::Waitlisted).then(|| { waiting += 1; waiting });
                        let removable = r.status == EnrolmentStatus::Enrolled || r.status == EnrolmentStatus::Waitlisted;
                        view! {
                            <tr data-person=r.email.clone() data-status=r.status.as_str()>
                                <td>{r.name.clone()}</td>
                                <td>{r.email.clone()}</td>
                                <td>
                                    <StatusPill status=r.status/>
                                    {position.map(|p| view! { " " <span class="meta">{format!("#{p}")}</span> })}
                                </td>
                                <td>{r.attended}</td>
                                <td>
                                    {r.certificate_code.clone().map(|code| view! { <a href=format!("/certificates/{code}")>{code.clone()}</a> })}
                                    {removable.then(|| view! {
                                        <Form action=remove class="inline" banner=false>
                                            <input type="hidden" name="cohort_id" value=cohort_id/>
                                            <input type="hidden" name="user_id" value=r.user_id/>
                                            <Submit class="ghost small" testid="remove-person">{locale.t("cohorts.remove")}</Submit>
                                        </Form>
                                    })}
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table></div>
        })}
        <h3>{locale.t("cohorts.enrol_someone")}</h3>
        <Form action=add class="search">
            <input type="hidden" name="cohort_id" value=cohort_id/>
            <label class="visually-hidden" for="f-enrol-email">{locale.t("field.email")}</label>
            <input id="f-enrol-email" type="email" name="email" placeholder=locale.t("field.email")/>
            <Submit class="secondary" testid="admin-enrol">{locale.t("cohorts.enrol")}</Submit>
        </Form>
    }
}

/// A session's roster on one screen: tab from box to box, space to tick, enter to save.
#[component]
pub fn AttendancePage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let roster = Resource::new(move || id.get(), get_session_roster);
    let mark = mutation::<MarkAttendance>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match roster.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(r) => {
                        let title = super::pick(locale, &r.cohort_title_en, &r.cohort_title_zh).to_string();
                        let s = r.session.clone();
                        let empty = r.rows.is_empty();
                        view! {
                            <p class="meta"><a href=format!("/admin/cohorts/{}", r.cohort_id)>{title.clone()}</a></p>
                            <div class="title-row">
                                <h1>{locale.t("cohorts.attendance_title")}</h1>
                                <div class="checkin-code" aria-label=locale.t("cohorts.checkin_code")>
                                    <span class="meta">{locale.t("cohorts.checkin_code")}</span>
                                    <strong data-testid="session-code">{s.checkin_code.clone().unwrap_or_default()}</strong>
                                </div>
                            </div>
                            <p class="lead">{format_time(&s.starts_at)} " – " {crate::components::format_clock(&s.ends_at)} " · " {s.topic.clone()} " · " {s.instructor.clone()}</p>
                            <p class="meta" data-testid="present-count">{locale.t_with("cohorts.present_of", &[("present", &s.present.to_string()), ("total", &r.rows.len().to_string())])}</p>
                            <ErrorBanner error=action_error(mark)/>
                            {empty.then(|| view! { <p class="empty">{locale.t("cohorts.roster_empty")}</p> })}
                            {(!empty).then(|| view! {
                                <Form action=mark class="card" banner=false>
                                    <input type="hidden" name="session_id" value=s.id/>
                                    <div class="table-scroll" tabindex="0"><table class="data attendance">
                                        <thead><tr>
                                            <th>{locale.t("cohorts.present")}</th>
                                            <th>{locale.t("field.name")}</th>
                                            <th>{locale.t("field.email")}</th>
                                            <th>{locale.t("cohorts.marked_by")}</th>
                                        </tr></thead>
                                        <tbody>
                                            {r.rows.iter().map(|row| {
                                                let field = format!("present[{}]", row.user_id);
                                                let fid = format!("p-{}", row.user_id);
                                                let how = match row.source {
                                                    Some(AttendanceSource::Checkin) => locale.t("cohorts.by_checkin"),
                                                    Some(AttendanceSource::Roster) => locale.t("cohorts.by_roster"),
                                                    None => "–".to_string(),
                                                };
                                                view! {
                                                    <tr data-person=row.email.clone()>
                                                        <td>
                                                            <input type="hidden" name=format!("roster[{}]", row.user_id) value="1"/>
                                                            <input type="checkbox" id=fid.clone() name=field value="on" checked=row.present == Some(true)/>
                                                        </td>
                                                        <td><label for=fid>{row.name.clone()}</label></td>
                                                        <td>{row.email.clone()}</td>
                                                        <td>{how}</td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table></div>
                                    <Submit testid="save-attendance">{locale.t("cohorts.save_attendance")}</Submit>
                                </Form>
                            })}
                        }.into_any()
                    }
                }
            })}
        </Transition>
    }
}
