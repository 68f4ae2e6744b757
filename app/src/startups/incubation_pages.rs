//! Incubation pages: the admin's startup list (/admin/startups), a startup's page for admins
//! and its mentors (/startups/:id), the mentor's list (/mentoring), and the team's read-only
//! view of its milestones on /startup.
use super::incubation::{MilestoneRow, StartupDetail, TrancheRow, STARTUP_COLUMNS};
use super::incubation_fns::{
    get_my_incubation, get_startup_detail, list_startups, my_mentoring, AddStartup, AddStartupNote,
    AssignMentor, CreateMilestone, DeleteMilestone, EndIncubation, SetResidency, SignOffMilestone,
    UnassignMentor, UpdateMilestone,
};
use super::{Sector, Stage};
use crate::components::{
    action_error, format_time, initial_value, mutation, param_id, rejected_row, ErrorBanner,
    ErrorPage, Form, LocaleSelect, Submit, TextField,
};
use crate::credits::format_gpu_hours;
use crate::error::AppError;
use crate::i18n::use_locale;
use crate::settlement::pages::StartupProgrammes;
use crate::startups::incubation::{MilestoneStatus, StartupStatus};
use crate::tables::{query_from, FilterSelect, SortTh, TableFilters, TablePager};
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

fn day(d: &NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn window(from: Option<NaiveDate>, until: Option<NaiveDate>) -> String {
    match (from, until) {
        (None, None) => "—".into(),
        (f, u) => format!(
            "{} → {}",
            f.as_ref().map(day).unwrap_or_else(|| "…".into()),
            u.as_ref().map(day).unwrap_or_else(|| "…".into())
        ),
    }
}

#[component]
fn StatusPill(status: StartupStatus) -> impl IntoView {
    let locale = use_locale();
    view! {
        <span class=format!("pill startup-{status}") data-status=status.as_str()>
            {locale.t(&format!("incubation.status_{status}"))}
        </span>
    }
}

#[component]
fn MilestonePill(status: MilestoneStatus, overdue: bool) -> impl IntoView {
    let locale = use_locale();
    let key = if overdue { "overdue" } else { status.as_str() };
    view! {
        <span class=format!("pill milestone-{key}") data-milestone-status=status.as_str()>
            {locale.t(&format!("milestones.status_{key}"))}
        </span>
    }
}

/// The GPU credit tied to a milestone.
#[component]
pub fn TrancheList(tranches: Vec<TrancheRow>) -> impl IntoView {
    let locale = use_locale();
    (!tranches.is_empty()).then(|| {
        view! {
            <ul class="tranches">
                {tranches.into_iter().map(|t| view! {
                    <li data-tranche=t.id data-tranche-status=t.status.as_str()>
                        {locale.t_with("tranches.line", &[("hours", &format_gpu_hours(t.minutes))])}
                        " "
                        <span class=format!("pill tranche-{}", t.status)>{locale.t(&format!("tranches.status_{}", t.status))}</span>
                    </li>
                }).collect_view()}
            </ul>
        }
    })
}

/// The facts of one milestone: what, when, state, evidence and who signed it off.
#[component]
fn MilestoneFacts(m: MilestoneRow, today: NaiveDate) -> impl IntoView {
    let locale = use_locale();
    let overdue = m.status == MilestoneStatus::Planned && m.due_on < today;
    view! {
        <div class="milestone-head">
            <strong>{m.title.clone()}</strong>
            " "
            <MilestonePill status=m.status overdue/>
            <span class="meta">{locale.t_with("milestones.due", &[("date", &day(&m.due_on))])}</span>
        </div>
        {(!m.description.is_empty()).then(|| view! { <p>{m.description.clone()}</p> })}
        {m.evidence.clone().map(|e| view! { <p><em>{locale.t("milestones.evidence")}": "</em>{e}</p> })}
        {m.notes.clone().map(|n| view! { <p><em>{locale.t("milestones.notes")}": "</em>{n}</p> })}
        {m.signed_off_at.map(|t| view! {
            <p class="meta">
                {locale.t_with("milestones.signed_off_by", &[
                    ("name", &m.signed_off_by.clone().unwrap_or_default()),
                    ("time", &format_time(&t)),
                ])}
            </p>
        })}
        <TrancheList tranches=m.tranches.clone()/>
    }
}

/// Startups for admins: search by name, filter by status and sector, sort, a page at a time,
/// CSV of the filtered rows; and a form to add a startup directly.
#[component]
pub fn StartupsAdminPage() -> impl IntoView {
    let locale = use_locale();
    let params = use_query_map();
    let query = Memo::new(move |_| params.with(query_from));
    let data = Resource::new(move || query.get(), list_startups);
    let add = mutation::<AddStartup>();
    const PATH: &str = "/admin/startups";
    view! {
        <h1>{locale.t("incubation.title")}</h1>
        {move || {
            let q = query.get();
            let statuses = StartupStatus::ALL
                .iter()
                .map(|k| (k.to_string(), locale.t(&format!("incubation.status_{k}"))))
                .collect::<Vec<_>>();
            let sectors = Sector::ALL
                .iter()
                .map(|k| (k.to_string(), locale.t(&format!("sector.{k}"))))
                .collect::<Vec<_>>();
            view! {
                <TableFilters path=PATH csv="/admin/startups.csv" query=q.clone() search_label=locale.t("incubation.search")>
                    <FilterSelect name="status" label=locale.t("incubation.status") value=q.status.clone() options=statuses/>
                    <FilterSelect name="of" label=locale.t("startup.sector") value=q.of.clone() options=sectors/>
                </TableFilters>
            }
        }}
        <div class="split">
            <section class="card">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        match data.await {
                            Err(e @ (AppError::Invalid { .. } | AppError::InvalidFields { .. })) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                            Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                            Ok(p) => {
                                let q = query.get_untracked();
                                let th = move |key: &'static str| view! { <SortTh path=PATH query=q.clone() columns=STARTUP_COLUMNS key/> };
                                view! {
                                    {p.rows.is_empty().then(|| view! { <p class="empty">{locale.t("incubation.none")}</p> })}
                                    <div class="table-scroll" tabindex="0"><table class="data" data-testid="startups">
                                        <thead><tr>
                                            {th("name")}
                                            {th("status")}
                                            {th("sector")}
                                            {th("residency")}
                                            <th class="num">{locale.t("incubation.mentors")}</th>
                                            <th>{locale.t("incubation.next_milestone")}</th>
                                        </tr></thead>
                                        <tbody>
                                            {p.rows.into_iter().map(|s| view! {
                                                <tr data-startup=s.id>
                                                    <td><a href=format!("/startups/{}", s.id)>{s.name}</a></td>
                                                    <td><StatusPill status=s.status/></td>
                                                    <td>{locale.t(&format!("sector.{}", s.sector))}</td>
                                                    <td>{window(s.residency_from, s.residency_until)}</td>
                                                    <td class="num">{s.mentors}</td>
                                                    <td>{s.next_milestone.map(|n| format!("{} · {}", n.title, day(&n.due_on))).unwrap_or_default()}</td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table></div>
                                    <TablePager path=PATH query=query.get_untracked() page=p.page more=p.more keys=p.keys/>
                                }
                                .into_any()
                            }
                        }
                    })}
                </Transition>
            </section>
            <section class="card">
                <h2>{locale.t("incubation.add_title")}</h2>
                <p class="hint">{locale.t("incubation.add_lead")}</p>
                <Form action=add class="form">
                    <TextField label=locale.t("startup.name") name="name"/>
                    <TextField label=locale.t("startup.credit_code") name="credit_code" hint=locale.t("startup.credit_code_hint")/>
                    <div class="field">
                        <label for="f-sector">{locale.t("startup.sector")}</label>
                        <select id="f-sector" name="sector">
                            {Sector::ALL.iter().map(|k| view! { <option value=k.as_str() selected=initial_value("sector", String::new()) == k.as_str()>{locale.t(&format!("sector.{k}"))}</option> }).collect_view()}
                        </select>
                    </div>
                    <div class="field">
                        <label for="f-stage">{locale.t("startup.stage")}</label>
                        <select id="f-stage" name="stage">
                            {Stage::ALL.iter().map(|k| view! { <option value=k.as_str() selected=initial_value("stage", String::new()) == k.as_str()>{locale.t(&format!("stage.{k}"))}</option> }).collect_view()}
                        </select>
                    </div>
                    <TextField label=locale.t("startup.team_size") name="team_size" kind="number"/>
                    <TextField label=locale.t("startup.website") name="website" kind="url"/>
                    <div class="field">
                        <label for="f-founders">{locale.t("startup.founders")}</label>
                        <textarea id="f-founders" name="founders" rows="2">{crate::components::textarea_text(initial_value("founders", String::new()))}</textarea>
                    </div>
                    <TextField label=locale.t("incubation.residency_from") name="residency_from" kind="date"/>
                    <TextField label=locale.t("incubation.residency_until") name="residency_until" kind="date"/>
                    <TextField label=locale.t("incubation.founder_email") name="founder_email" kind="email" hint=locale.t("incubation.founder_email_hint")/>
                    <LocaleSelect id="f-add-lang" label=locale.t("users.invite_language") selected=locale/>
                    <Submit testid="add-startup">{locale.t("incubation.add_submit")}</Submit>
                </Form>
            </section>
        </div>
    }
}

/// A startup's page for admins and its assigned mentors.
#[component]
pub fn StartupDetailPage() -> impl IntoView {
    let id = param_id("id");
    let params = leptos_router::hooks::use_query_map();
    let mentor_q = move || params.with(|p| p.get("mentor").unwrap_or_default());
    let data = Resource::new(
        move || (id.get(), mentor_q()),
        |(id, q)| get_startup_detail(id, q),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => view! { <StartupDetailView d mentor_q=mentor_q()/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StartupDetailView(d: StartupDetail, mentor_q: String) -> impl IntoView {
    let locale = use_locale();
    let residency = mutation::<SetResidency>();
    let assign = mutation::<AssignMentor>();
    let unassign = mutation::<UnassignMentor>();
    let note = mutation::<AddStartupNote>();
    let end = mutation::<EndIncubation>();
    let create = mutation::<CreateMilestone>();
    let update = mutation::<UpdateMilestone>();
    let delete = mutation::<DeleteMilestone>();
    let sign = mutation::<SignOffMilestone>();
    let p = d.profile.clone();
    let id = p.id;
    let incubating = p.status == StartupStatus::Incubating;
    let manage = d.can_manage;
    let today = d.today;
    let date_value = |d: Option<NaiveDate>| d.as_ref().map(day).unwrap_or_default();
    view! {
        <p class="meta">
            {if manage {
                view! { <a href="/admin/startups">{locale.t("incubation.back")}</a> }.into_any()
            } else {
                view! { <a href="/mentoring">{locale.t("mentoring.back")}</a> }.into_any()
            }}
        </p>
        <div class="title-row">
            <h1>{p.name.clone()}" "<StatusPill status=p.status/></h1>
            {(manage && incubating).then(|| view! {
                <a class="button" href=format!("/admin/grants/new?startup={id}") data-testid="grant-credit">{locale.t("grants.grant_credit")}</a>
            })}
        </div>
        <p class="lead">
            {format!(
                "{} · {} · {}",
                locale.t(&format!("sector.{}", p.sector)),
                locale.t(&format!("stage.{}", p.stage)),
                locale.t_with("incubation.team_size", &[("n", &p.team_size.to_string())]),
            )}
        </p>
        <dl class="facts card" data-testid="profile">
            <dt>{locale.t("incubation.residency")}</dt>
            <dd data-testid="residency">{window(d.residency_from, d.residency_until)}</dd>
            <dt>{locale.t("startup.founders")}</dt><dd class="answer">{p.founders.clone()}</dd>
            <dt>{locale.t("startup.credit_code")}</dt><dd>{p.credit_code.clone().unwrap_or_else(|| "—".into())}</dd>
            <dt>{locale.t("startup.website")}</dt>
            <dd>{p.website.clone().map(|w| view! { <a href=w.clone() rel="noopener noreferrer">{w.clone()}</a> })}</dd>
            {d.ended_at.map(|t| view! {
                <dt>{locale.t("incubation.ended_at")}</dt><dd>{format_time(&t)}</dd>
                <dt>{locale.t("incubation.end_reason")}</dt><dd data-testid="end-reason">{d.end_reason.clone().unwrap_or_default()}</dd>
            })}
        </dl>

        <div class="split">
            <section class="card" id="team">
                <h2>{locale.t("team.title")}</h2>
                {d.team.is_empty().then(|| view! { <p class="empty">{locale.t("incubation.team_empty")}</p> })}
                <div class="table-scroll" tabindex="0"><table class="data">
                    <tbody>
                        {d.team.into_iter().map(|m| view! {
                            <tr data-member=m.email.clone()>
                                <td>{m.name}</td>
                                <td>{m.email.clone()}</td>
                                <td>{locale.t(&format!("team.role_{}", m.role))}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table></div>
                {(manage && incubating).then(|| view! {
                    <h3>{locale.t("incubation.residency_title")}</h3>
                    <Form action=residency class="form">
                        <input type="hidden" name="id" value=id/>
                        <TextField label=locale.t("incubation.residency_from") name="residency_from" kind="date" value=date_value(d.residency_from)/>
                        <TextField label=locale.t("incubation.residency_until") name="residency_until" kind="date" value=date_value(d.residency_until)/>
                        <Submit class="secondary" testid="save-residency">{locale.t("form.save")}</Submit>
                    </Form>
                })}
            </section>
            <section class="card" id="mentors">
                <h2>{locale.t("incubation.mentors")}</h2>
                {d.mentors.is_empty().then(|| view! { <p class="empty">{locale.t("incubation.no_mentors")}</p> })}
                <ErrorBanner error=action_error(unassign)/>
                <ul class="plain">
                    {d.mentors.into_iter().map(|m| view! {
                        <li data-mentor=m.email.clone()>
                            {format!("{} <{}>", m.name, m.email)}
                            {manage.then(|| view! {
                                <Form action=unassign class="inline" banner=false>
                                    <input type="hidden" name="id" value=id/>
                                    <input type="hidden" name="user_id" value=m.user_id/>
                                    <Submit class="small secondary">{locale.t("incubation.unassign")}</Submit>
                                </Form>
                            })}
                        </li>
                    }).collect_view()}
                </ul>
                {(manage && incubating).then(|| {
                    let searched = !mentor_q.trim().is_empty();
                    view! {
                        <ErrorBanner error=action_error(assign)/>
                        // A park has hundreds of mentors: found by name or email, not listed.
                        <form method="get" action=format!("/startups/{id}#mentors") class="form compact" role="search">
                            <div class="field">
                                <label for="f-mentor">{locale.t("incubation.find_mentor")}</label>
                                <input id="f-mentor" name="mentor" type="search" value=mentor_q.clone() maxlength="100"/>
                            </div>
                            <Submit class="secondary" testid="find-mentor">{locale.t("grants.find")}</Submit>
                        </form>
                        {(searched && d.mentor_choices.is_empty()).then(|| view! { <p class="hint">{locale.t("incubation.no_mentor_choices")}</p> })}
                        {(!d.mentor_choices.is_empty()).then(|| view! {
                            <ul class="plain choices" data-testid="mentor-matches">
                                {d.mentor_choices.clone().into_iter().map(|(uid, label)| view! {
                                    <li>
                                        <Form action=assign class="inline" banner=false row=("user_id", uid)>
                                            <input type="hidden" name="id" value=id/>
                                            <input type="hidden" name="user_id" value=uid/>
                                            {label}" "
                                            <Submit class="small" testid=format!("assign-mentor-{uid}")>{locale.t("incubation.assign")}</Submit>
                                        </Form>
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                    }
                })}
            </section>
        </div>

        <crate::credits::pages::StartupCreditSection c=d.credit link=manage/>

        <section class="card" id="milestones">
            <h2>{locale.t("milestones.title")}</h2>
            <ErrorBanner error=action_error(sign)/>
            <ErrorBanner error=action_error(update)/>
            <ErrorBanner error=action_error(delete)/>
            {d.milestones.is_empty().then(|| view! { <p class="empty">{locale.t("milestones.none")}</p> })}
            <ol class="milestones">
                {d.milestones.into_iter().map(|m| {
                    let open = incubating && m.status == MilestoneStatus::Planned;
                    let mid = m.id;
                    let title = m.title.clone();
                    let description = m.description.clone();
                    let due = day(&m.due_on);
                    view! {
                        <li data-milestone=mid>
                            <MilestoneFacts m today/>
                            {open.then(|| view! {
                                <details open={rejected_row::<SignOffMilestone>(("id", mid))}>
                                    <summary>{locale.t("milestones.sign_off")}</summary>
                                    <Form action=sign class="form" banner=false row=("id", mid)>
                                        <input type="hidden" name="id" value=mid/>
                                        <div class="field">
                                            <label for=format!("f-outcome-{mid}")>{locale.t("milestones.outcome")}</label>
                                            <select id=format!("f-outcome-{mid}") name="outcome">
                                                <option value="done">{locale.t("milestones.status_done")}</option>
                                                <option value="missed" selected=initial_value("outcome", String::new()) == "missed">{locale.t("milestones.status_missed")}</option>
                                            </select>
                                        </div>
                                        <div class="field">
                                            <label for=format!("f-evidence-{mid}")>{locale.t("milestones.evidence")}</label>
                                            <textarea id=format!("f-evidence-{mid}") name="evidence" rows="2">{crate::components::textarea_text(initial_value("evidence", String::new()))}</textarea>
                                            <small class="hint">{locale.t("milestones.evidence_hint")}</small>
                                        </div>
                                        <div class="field">
                                            <label for=format!("f-notes-{mid}")>{locale.t("milestones.notes")}</label>
                                            <textarea id=format!("f-notes-{mid}") name="notes" rows="2">{crate::components::textarea_text(initial_value("notes", String::new()))}</textarea>
                                        </div>
                                        <Submit testid=format!("sign-off-{mid}")>{locale.t("milestones.sign_off_submit")}</Submit>
                                    </Form>
                                </details>
                            })}
                            {(open && manage).then(|| view! {
                                <details open={rejected_row::<UpdateMilestone>(("id", mid))}>
                                    <summary>{locale.t("milestones.edit")}</summary>
                                    <Form action=update class="form" banner=false row=("id", mid)>
                                        <input type="hidden" name="id" value=mid/>
                                        <TextField label=locale.t("milestones.title_field") name="title" value=title/>
                                        <div class="field">
                                            <label for=format!("f-description-{mid}")>{locale.t("milestones.description")}</label>
                                            <textarea id=format!("f-description-{mid}") name="description" rows="2">{crate::components::textarea_text(initial_value("description", description))}</textarea>
                                        </div>
                                        <TextField label=locale.t("milestones.due_on") name="due_on" kind="date" value=due/>
                                        <Submit class="secondary">{locale.t("form.save")}</Submit>
                                    </Form>
                                    <Form action=delete class="inline" banner=false>
                                        <input type="hidden" name="id" value=mid/>
                                        <Submit class="small danger" testid=format!("delete-{mid}")>{locale.t("milestones.delete")}</Submit>
                                    </Form>
                                </details>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ol>
            {(manage && incubating).then(|| view! {
                <h3>{locale.t("milestones.new_title")}</h3>
                <Form action=create class="form">
                    <input type="hidden" name="startup_id" value=id/>
                    <TextField label=locale.t("milestones.title_field") name="title"/>
                    <div class="field">
                        <label for="f-description">{locale.t("milestones.description")}</label>
                        <textarea id="f-description" name="description" rows="2">{crate::components::textarea_text(initial_value("description", String::new()))}</textarea>
                    </div>
                    <TextField label=locale.t("milestones.due_on") name="due_on" kind="date"/>
                    <Submit testid="create-milestone">{locale.t("milestones.create")}</Submit>
                </Form>
            })}
        </section>

        <section class="card" id="notes">
            <h2>{locale.t("incubation.notes_title")}</h2>
            <Form action=note class="form">
                <input type="hidden" name="id" value=id/>
                <div class="field">
                    <label for="f-note-body">{locale.t("incubation.note_body")}</label>
                    <textarea id="f-note-body" name="body" rows="3">{crate::components::textarea_text(initial_value("body", String::new()))}</textarea>
                </div>
                <Submit class="secondary" testid="add-note">{locale.t("incubation.add_note")}</Submit>
            </Form>
            {d.notes.is_empty().then(|| view! { <p class="empty">{locale.t("incubation.no_notes")}</p> })}
            <ol class="timeline" data-testid="notes">
                {d.notes.into_iter().map(|n| view! {
                    <li data-note=n.id>
                        <p class="meta">{format!("{} · {}", n.author, format_time(&n.created_at))}</p>
                        <p>{n.body}</p>
                    </li>
                }).collect_view()}
            </ol>
        </section>

        <super::figures_pages::FiguresSection f=d.figures.clone()/>

        {d.funding.map(|f| view! { <StartupProgrammes startup_id=id f/> })}

        {(manage && incubating).then(|| view! {
            <section class="card" id="end">
                <h2>{locale.t("incubation.end_title")}</h2>
                <p class="hint">{locale.t("incubation.end_lead")}</p>
                <Form action=end class="form">
                    <input type="hidden" name="id" value=id/>
                    <div class="field">
                        <label for="f-end-to">{locale.t("incubation.end_outcome")}</label>
                        <select id="f-end-to" name="to">
                            <option value="graduated">{locale.t("incubation.graduate")}</option>
                            <option value="exited" selected=initial_value("to", String::new()) == "exited">{locale.t("incubation.exit")}</option>
                        </select>
                    </div>
                    <div class="field">
                        <label for="f-end-reason">{locale.t("incubation.end_reason")}</label>
                        <textarea id="f-end-reason" name="reason" rows="2">{crate::components::textarea_text(initial_value("reason", String::new()))}</textarea>
                    </div>
                    <Submit class="danger" testid="end-incubation">{locale.t("incubation.end_submit")}</Submit>
                </Form>
            </section>
        })}
    }
}

/// The signed-in mentor's startups.
#[component]
pub fn MentoringPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| my_mentoring());
    view! {
        <h1>{locale.t("mentoring.title")}</h1>
        <p class="hint">{locale.t("mentoring.lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(m) if m.rows.is_empty() => view! { <div class="empty"><p>{locale.t("mentoring.none")}</p></div> }.into_any(),
                    Ok(m) => view! {
                        <div class="table-scroll" tabindex="0"><table class="data card" data-testid="mentoring">
                            <thead><tr>
                                <th>{locale.t("startup.name")}</th>
                                <th>{locale.t("incubation.status")}</th>
                                <th>{locale.t("incubation.residency_until")}</th>
                                <th>{locale.t("incubation.next_milestone")}</th>
                                <th class="num">{locale.t("mentoring.overdue")}</th>
                            </tr></thead>
                            <tbody>
                                {m.rows.into_iter().map(|r| {
                                    let late = r.next_milestone.as_ref().is_some_and(|n| n.due_on < m.today);
                                    view! {
                                        <tr data-startup=r.startup_id>
                                            <td><a href=format!("/startups/{}", r.startup_id)>{r.name}</a></td>
                                            <td><StatusPill status=r.status/></td>
                                            <td>{r.residency_until.as_ref().map(day).unwrap_or_else(|| "—".into())}</td>
                                            <td class=if late { "overdue" } else { "" }>
                                                {r.next_milestone.map(|n| format!("{} · {}", n.title, day(&n.due_on))).unwrap_or_else(|| "—".into())}
                                            </td>
                                            <td class="num">{r.overdue}</td>
                                        </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table></div>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// The team's own incubation on /startup: residency, mentors and milestones, read-only.
#[component]
pub fn MyIncubationSection() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| get_my_incubation());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.ok().flatten().map(|i| {
                    let today = i.today;
                    view! {
                        <section class="card narrow wide" id="incubation" data-testid="my-incubation">
                            <h2>{locale.t("incubation.mine_title")}" "<StatusPill status=i.status/></h2>
                            <dl class="facts">
                                <dt>{locale.t("incubation.residency")}</dt>
                                <dd data-testid="residency">{window(i.residency_from, i.residency_until)}</dd>
                                <dt>{locale.t("incubation.mentors")}</dt>
                                <dd>{if i.mentors.is_empty() { "—".to_string() } else { i.mentors.join(", ") }}</dd>
                                {i.ended_at.map(|t| view! { <dt>{locale.t("incubation.ended_at")}</dt><dd>{format_time(&t)}</dd> })}
                            </dl>
                            <h3>{locale.t("milestones.title")}</h3>
                            {i.milestones.is_empty().then(|| view! { <p class="empty">{locale.t("milestones.none_yet")}</p> })}
                            <ol class="milestones">
                                {i.milestones.into_iter().map(|m| {
                                    let mid = m.id;
                                    view! { <li data-milestone=mid><MilestoneFacts m today/></li> }
                                }).collect_view()}
                            </ol>
                        </section>
                    }
                })
            })}
        </Transition>
    }
}
