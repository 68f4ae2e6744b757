//! Review pages: the admin assigns reviewers; the mentor's queue and review form.
use super::server_fns::{
    get_review, get_round_applications, my_affiliations, review_queue, AssignReviewer, AutoAssign,
    DeclareConflict, SaveAffiliations, SubmitReview,
};
use super::{BoardView, Recommendation, RoundApplicationRow, BOARD_FILTERS};
use crate::components::{
    format_time, initial_checked, initial_value, mutation, param_id, ErrorPage, Form, Submit,
};
use crate::i18n::use_locale;
use crate::intake::ApplicationStatus;
use crate::review::AssignmentStatus;
use crate::tables::Pager;
use leptos::prelude::*;

#[component]
pub fn RoundApplicationsPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let query = leptos_router::hooks::use_query_map();
    let page = Memo::new(move |_| {
        query.with(|q| {
            q.get("page")
                .and_then(|p| p.parse::<u64>().ok())
                .unwrap_or(0)
        })
    });
    let data = Resource::new(
        move || (id.get(), page.get()),
        |(id, page)| get_round_applications(id, page),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) => {
                        let mentors = p.mentors.clone();
                        let wanted = usize::try_from(p.mentors_per_application).unwrap_or(1);
                        let short = p.short;
                        let link = |n: u64| format!("/admin/rounds/{}/applications?page={n}", p.round_id);
                        let prev = (p.page > 0).then(|| link(p.page - 1));
                        let next = p.more.then(|| link(p.page + 1));
                        let page = p.page;
                        view! {
                            <p class="meta"><a href=format!("/admin/rounds/{}", p.round_id)>{locale.t("review.back_to_round")}</a></p>
                            <h1>{locale.t_with("review.applications_of", &[("round", &p.round_title)])}</h1>
                            <p class="hint">{locale.t_count("review.per_application", i64::from(p.mentors_per_application), &[])}</p>
                            {(short > 0).then(|| view! { <AutoAssignForm round_id=p.round_id short/> })}
                            {p.rows.is_empty().then(|| view! { <div class="empty"><p>{locale.t("review.no_applications")}</p></div> })}
                            <div class="table-scroll" tabindex="0"><table class="data card">
                                <thead><tr>
                                    <th>{locale.t("review.startup")}</th>
                                    <th>{locale.t("outbox.status")}</th>
                                    <th>{locale.t("applications.submitted_at")}</th>
                                    <th>{locale.t("review.reviewers")}</th>
                                </tr></thead>
                                <tbody>
                                    {p.rows.into_iter().map(|row| view! { <ApplicationRow row mentors=mentors.clone() wanted/> }).collect_view()}
                                </tbody>
                            </table></div>
                            <Pager page prev next/>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn AutoAssignForm(round_id: i64, short: usize) -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<AutoAssign>();
    view! {
        <div class="card callout">
            <p>{locale.t_count("review.auto_lead", short as i64, &[])}</p>
            <Form action class="actions">
                <input type="hidden" name="round_id" value=round_id/>
                <Submit testid="auto-assign">{locale.t("review.auto_assign")}</Submit>
            </Form>
        </div>
    }
}

#[component]
fn ApplicationRow(
    row: RoundApplicationRow,
    mentors: Vec<super::MentorOption>,
    wanted: usize,
) -> impl IntoView {
    let locale = use_locale();
    let assign = mutation::<AssignReviewer>();
    let reviewable = matches!(
        row.status,
        ApplicationStatus::Submitted | ApplicationStatus::InReview
    );
    let short = super::needs_reviewers(&row, wanted);
    let assigned: Vec<i64> = row.assignments.iter().map(|a| a.mentor_id).collect();
    let free: Vec<_> = mentors
        .into_iter()
        .filter(|m| !assigned.contains(&m.id))
        .collect();
    view! {
        <tr data-application=row.application_id>
            <td><a href=format!("/applications/{}", row.application_id)>{row.startup_name.clone()}</a></td>
            <td>
                <span class=format!("pill {}", row.status)>{locale.t(&row.status.label_key())}</span>
                {short.then(|| view! { <span class="pill waitlisted" data-testid="short">{locale.t("review.short")}</span> })}
            </td>
            <td>{row.submitted_at.as_ref().map(format_time).unwrap_or_default()}</td>
            <td>
                <ul class="plain">
                    {row.assignments.iter().map(|a| view! {
                        <li data-status=a.status.as_str()>{a.mentor_name.clone()} " · " {locale.t(&format!("review.status_{}", a.status))}</li>
                    }).collect_view()}
                </ul>
                {(reviewable && !free.is_empty()).then(|| view! {
                    <Form action=assign class="roles-form" row=("application_id", row.application_id)>
                        <input type="hidden" name="application_id" value=row.application_id/>
                        <select name="mentor_id" aria-label=locale.t("review.mentor")>
                            {free.iter().map(|m| view! { <option value=m.id>{format!("{} <{}>", m.name, m.email)}</option> }).collect_view()}
                        </select>
                        <Submit class="small secondary" testid="assign">{locale.t("review.assign")}</Submit>
                    </Form>
                })}
            </td>
        </tr>
    }
}

#[component]
pub fn ReviewQueuePage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| review_queue());
    view! {
        <h1>{locale.t("review.queue_title")}</h1>
        <AffiliationsForm/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <div class="empty"><p>{locale.t("review.queue_empty")}</p></div> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-scroll" tabindex="0"><table class="data card">
                            <thead><tr>
                                <th>{locale.t("review.application")}</th>
                                <th>{locale.t("applications.round")}</th>
                                <th>{locale.t("review.due")}</th>
                                <th>{locale.t("outbox.status")}</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|i| {
                                    let label = i.startup_name.clone().unwrap_or_else(|| locale.t_with("review.blind_label", &[("id", &i.application_id.to_string())]));
                                    view! {
                                        <tr data-assignment=i.assignment_id>
                                            <td><a href=format!("/reviews/{}", i.assignment_id)>{label}</a></td>
                                            <td>{i.round_title.clone()}</td>
                                            <td>{i.due_at.as_ref().map(format_time).unwrap_or_else(|| locale.t("review.no_deadline"))}</td>
                                            <td>{locale.t(&format!("review.status_{}", i.status))}</td>
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

/// A mentor's declared affiliations: automatic assignment keeps them away from these.
#[component]
fn AffiliationsForm() -> impl IntoView {
    let locale = use_locale();
    let current = Resource::new(|| (), |_| my_affiliations());
    let action = mutation::<SaveAffiliations>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                current.await.ok().map(|text| {
                    let declared = text.lines().count();
                    let open = declared == 0;
                    view! {
                        <details class="card" open=open>
                            <summary>{locale.t_with("review.affiliations_summary", &[("n", &declared.to_string())])}</summary>
                            <Form action class="form">
                                <div class="field">
                                    <label for="f-affiliations">{locale.t("review.affiliations")}</label>
                                    <textarea id="f-affiliations" name="affiliations" rows="4">{crate::components::textarea_text(initial_value("affiliations", text))}</textarea>
                                    <small class="hint">{locale.t("review.affiliations_hint")}</small>
                                </div>
                                <Submit class="small" testid="save-affiliations">{locale.t("form.save")}</Submit>
                            </Form>
                        </details>
                    }
                })
            })}
        </Transition>
    }
}

#[component]
pub fn ReviewFormPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let data = Resource::new(move || id.get(), get_review);
    let submit = mutation::<SubmitReview>();
    let conflict = mutation::<DeclareConflict>();
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(r) => {
                        let title = if r.blind {
                            locale.t_with("review.blind_label", &[("id", &r.application_id.to_string())])
                        } else {
                            r.profile.name.clone()
                        };
                        let f = r.fields.clone();
                        let answer = move |key: &'static str, value: String| view! { <dt>{locale.t(key)}</dt><dd class="answer">{value}</dd> };
                        let recused = r.status == AssignmentStatus::Recused;
                        view! {
                            <p class="meta"><a href="/reviews">{locale.t("review.back_to_queue")}</a></p>
                            <h1 data-testid="review-title">{title}</h1>
                            <p class="meta">
                                {r.round_title.clone()} " · "
                                {r.due_at.as_ref().map(|d| locale.t_with("review.due_at", &[("when", &format_time(d))])).unwrap_or_else(|| locale.t("review.no_deadline"))}
                            </p>
                            {r.blind.then(|| view! { <p class="banner notice">{locale.t("review.blind_notice")}</p> })}
                            <div class="split">
                                <section class="card">
                                    <dl class="facts">
                                        <dt>{locale.t("startup.sector")}</dt><dd>{locale.t(&format!("sector.{}", r.profile.sector))}</dd>
                                        <dt>{locale.t("startup.stage")}</dt><dd>{locale.t(&format!("stage.{}", r.profile.stage))}</dd>
                                        <dt>{locale.t("startup.team_size")}</dt><dd>{r.profile.team_size}</dd>
                                        {(!r.blind).then(|| view! { <dt>{locale.t("startup.founders")}</dt><dd class="answer">{r.profile.founders.clone()}</dd> })}
                                    </dl>
                                    <dl class="answers">
                                        {answer("apply.problem", f.problem)}
                                        {answer("apply.solution", f.solution)}
                                        {answer("apply.models_data", f.models_data)}
                                        {answer("apply.gpu_model", f.gpu_model)}
                                        {answer("apply.gpu_hours", f.gpu_hours)}
                                        {answer("apply.traction", f.traction)}
                                        {answer("apply.team", f.team)}
                                    </dl>
                                </section>
                                <section class="card">
                                    {if recused {
                                        view! {
                                            <h2>{locale.t("review.recused_title")}</h2>
                                            <p>{r.conflict_reason.clone().unwrap_or_default()}</p>
                                        }
                                        .into_any()
                                    } else {
                                        let editable = r.editable;
                                        let current = r.recommendation;
                                        view! {
                                            <h2>{locale.t("review.your_review")}</h2>
                                            {(!editable).then(|| view! { <p class="banner notice">{locale.t("error.review_closed")}</p> })}
                                            <Form action=submit class="form">
                                                <input type="hidden" name="id" value=r.assignment_id/>
                                                {r.criteria.iter().map(|c| {
                                                    let name = format!("scores[{}]", c.criterion_id);
                                                    let current = c.score;
                                                    view! {
                                                        <fieldset class="score" data-criterion=c.criterion_id>
                                                            <legend>{c.name.clone()} <span class="meta">{locale.t_with("review.weight", &[("weight", &c.weight.to_string())])}</span></legend>
                                                            {(!c.guidance.is_empty()).then(|| view! { <p class="hint">{c.guidance.clone()}</p> })}
                                                            <div class="scale">
                                                                {(1..=5).map(|v| view! {
                                                                    <label class="check">
                                                                        <input type="radio" name=name.clone() value=v checked=initial_checked(&name, &v.to_string(), current == Some(v)) disabled=!editable/>
                                                                        {v}
                                                                    </label>
                                                                }).collect_view()}
                                                            </div>
                                                        </fieldset>
                                                    }
                                                }).collect_view()}
                                                <div class="field">
                                                    <label for="f-recommendation">{locale.t("review.recommendation")}</label>
                                                    <select id="f-recommendation" name="recommendation" disabled=!editable>
                                                        <option value="">{locale.t("review.choose")}</option>
                                                        {Recommendation::ALL.iter().map(|&k| view! {
                                                            <option value=k.as_str() selected=initial_value("recommendation", current.map(|c| c.as_str().to_string()).unwrap_or_default()) == k.as_str()>{locale.t(&format!("review.recommend_{k}"))}</option>
                                                        }).collect_view()}
                                                    </select>
                                                </div>
                                                <div class="field">
                                                    <label for="f-feedback">{locale.t("review.feedback_applicant")}</label>
                                                    <textarea id="f-feedback" name="feedback_applicant" rows="4" disabled=!editable>{crate::components::textarea_text(initial_value("feedback_applicant", r.feedback_applicant.clone()))}</textarea>
                                                    <small class="hint">{locale.t("review.feedback_hint")}</small>
                                                </div>
                                                <div class="field">
                                                    <label for="f-notes">{locale.t("review.notes_committee")}</label>
                                                    <textarea id="f-notes" name="notes_committee" rows="3" disabled=!editable>{crate::components::textarea_text(initial_value("notes_committee", r.notes_committee.clone()))}</textarea>
                                                    <small class="hint">{locale.t("review.notes_hint")}</small>
                                                </div>
                                                {editable.then(|| view! { <Submit testid="submit-review">{locale.t("review.submit")}</Submit> })}
                                            </Form>
                                            <h3>{locale.t("review.conflict_title")}</h3>
                                            <p class="hint">{locale.t("review.conflict_hint")}</p>
                                            <Form action=conflict class="form">
                                                <input type="hidden" name="id" value=r.assignment_id/>
                                                <div class="field">
                                                    <label for="f-reason">{locale.t("review.conflict_reason")}</label>
                                                    <input id="f-reason" name="reason" type="text" value=initial_value("reason", String::new())/>
                                                </div>
                                                <Submit class="secondary" testid="declare-conflict">{locale.t("review.declare_conflict")}</Submit>
                                            </Form>
                                        }
                                        .into_any()
                                    }}
                                </section>
                            </div>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

fn two_places(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.2}")).unwrap_or_else(|| "—".into())
}

#[component]
pub fn DecisionBoardPage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    // Ranking, narrowing and paging live in the address, so they work without JavaScript and
    // can be shared; the server does them, a page of rows at a time.
    let query = leptos_router::hooks::use_query_map();
    let board_view = Memo::new(move |_| {
        query.with(|q| BoardView {
            sort: q.get("sort").unwrap_or_default(),
            status: q.get("status").unwrap_or_default(),
            page: q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0),
        })
    });
    let data = Resource::new(
        move || (id.get(), board_view.get()),
        |(id, view)| super::server_fns::get_decision_board(id, view),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(b) => {
                        let current = board_view.get_untracked();
                        let round_id = b.round_id;
                        let sort_link = |key: &'static str, label: &'static str| {
                            let target = BoardView { sort: key.to_string(), ..current.clone() };
                            let active = current.by_normalised() == target.by_normalised();
                            view! {
                                <a class="chip" href=target.href(round_id, 0) aria-current=active.then_some("true")>
                                    {locale.t(label)}
                                </a>
                            }
                        };
                        let filter_link = |key: Option<&'static str>| {
                            let target = BoardView { status: key.unwrap_or_default().to_string(), ..current.clone() };
                            let label = match key {
                                None => locale.t("decide.filter_all"),
                                Some("disagreement") => locale.t("decide.disagree"),
                                Some(s) => locale.t(&format!("application.status_{s}")),
                            };
                            view! {
                                <a class="chip" href=target.href(round_id, 0)
                                    aria-current=(current.filter() == key).then_some("true")>
                                    {label}
                                </a>
                            }
                        };
                        let prev = (b.page > 0).then(|| current.href(round_id, b.page - 1));
                        let next = b.more.then(|| current.href(round_id, b.page + 1));
                        let page = b.page;
                        let rows = if b.rows.is_empty() {
                            view! { <tr><td colspan="7" class="empty">{locale.t("decide.none_match")}</td></tr> }.into_any()
                        } else {
                            b.rows.into_iter().map(|row| view! { <BoardRowView row/> }).collect_view().into_any()
                        };
                        view! {
                            <p class="meta"><a href=format!("/admin/rounds/{round_id}")>{locale.t("review.back_to_round")}</a></p>
                            <h1>{locale.t_with("decide.title", &[("round", &b.round_title)])}</h1>
                            <p class="hint">{locale.t("decide.lead")}</p>
                            <nav class="chips" aria-label=locale.t("decide.sort_label")>
                                {sort_link("mean", "decide.sort_mean")}
                                {sort_link("normalised", "decide.sort_normalised")}
                            </nav>
                            <nav class="chips" aria-label=locale.t("decide.filter_label")>
                                {filter_link(None)}
                                {BOARD_FILTERS.iter().map(|k| filter_link(Some(*k))).collect_view()}
                            </nav>
                            <p class="meta" data-testid="matching">{locale.t_with("decide.matching", &[("n", &b.matching.to_string())])}</p>
                            <div class="table-scroll" tabindex="0"><table class="data card">
                                <thead><tr>
                                    <th>{locale.t("review.startup")}</th>
                                    <th>{locale.t("outbox.status")}</th>
                                    <th>{locale.t("decide.reviews")}</th>
                                    <th>{locale.t("decide.mean")}</th>
                                    <th>{locale.t("decide.spread")}</th>
                                    <th>{locale.t("decide.normalised")}</th>
                                    <th>{locale.t("decide.decision")}</th>
                                </tr></thead>
                                <tbody>{rows}</tbody>
                            </table></div>
                            <Pager page prev next/>
                        }
                        .into_any()
                    }
                }
            })}
        </Transition>
    }
}

#[component]
fn BoardRowView(row: super::BoardRow) -> impl IntoView {
    let locale = use_locale();
    let decide = mutation::<super::server_fns::Decide>();
    let decidable = matches!(
        row.status,
        ApplicationStatus::Submitted | ApplicationStatus::InReview | ApplicationStatus::Waitlisted
    );
    // Nobody has reviewed it: deciding asks for a confirmation.
    let unreviewed = row.reviews.is_empty();
    view! {
        <tr data-application=row.application_id>
            <td>
                <a href=format!("/applications/{}", row.application_id)>{row.startup_name.clone()}</a>
                <details>
                    <summary>{locale.t("decide.show_reviews")}</summary>
                    <ul class="plain">
                        {row.reviews.iter().map(|r| view! {
                            <li>
                                <strong>{r.mentor_name.clone()}</strong> " · " {format!("{:.2}", r.total)} " · "
                                {r.recommendation.map(|k| locale.t(&format!("review.recommend_{k}"))).unwrap_or_default()}
                                <p class="answer">{r.feedback_applicant.clone()}</p>
                                {(!r.notes_committee.is_empty()).then(|| view! { <p class="hint answer">{r.notes_committee.clone()}</p> })}
                            </li>
                        }).collect_view()}
                    </ul>
                </details>
            </td>
            <td><span class=format!("pill {}", row.status)>{locale.t(&row.status.label_key())}</span></td>
            <td>{format!("{} / {}", row.reviews.len(), row.assigned)}</td>
            <td data-testid="mean">{two_places(row.weighted_mean)}</td>
            <td>
                {two_places(row.spread)}
                {row.disagreement.then(|| view! { <span class="pill rejected" data-testid="disagreement">{locale.t("decide.disagree")}</span> })}
            </td>
            <td data-testid="normalised">{two_places(row.normalised)}</td>
            <td>
                {decidable.then(|| view! {
                    <Form action=decide class="form compact" row=("application_id", row.application_id)>
                        <input type="hidden" name="application_id" value=row.application_id/>
                        {
                            let chosen = initial_value("decision", String::new());
                            view! {
                                <select name="decision" required aria-label=locale.t("decide.decision")>
                                    <option value="" selected=chosen.is_empty() disabled>{locale.t("decide.choose")}</option>
                                    {["accept", "waitlist", "reject"].into_iter().map(|k| view! {
                                        <option value=k selected=chosen == k>{locale.t(&format!("review.recommend_{k}"))}</option>
                                    }).collect_view()}
                                </select>
                            }
                        }
                        <textarea name="message" rows="2" aria-label=locale.t("decide.message") placeholder=locale.t("decide.message")>{crate::components::textarea_text(initial_value("message", String::new()))}</textarea>
                        {unreviewed.then(|| view! {
                            <label class="check">
                                <input type="checkbox" name="without_review" value="yes" data-testid="without-review"/>
                                {locale.t("decide.without_review")}
                            </label>
                        })}
                        <Submit class="small" testid="decide">{locale.t("decide.submit")}</Submit>
                    </Form>
                })}
            </td>
        </tr>
    }
}
