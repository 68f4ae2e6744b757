//! Cohort pages for everyone: the list, one cohort (enrol, withdraw, check in), a
//! certificate, the public verification, and a person's training on their dashboard.
use super::server_fns::{
    get_cohort, get_my_training, list_cohorts, verify_certificate, CheckIn, Enrol,
    WithdrawEnrolment,
};
use super::{pick, CertificateView, CohortCard, CohortDetail};
use crate::cohorts::EnrolmentStatus;
use crate::components::{
    action_error, format_time, mutation, param_id, ErrorBanner, ErrorPage, Form, PrintButton,
    Submit,
};
use crate::error::AppError;
use crate::i18n::{use_locale, Locale};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

fn date(d: &chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A place, or a link when the cohort meets online.
#[component]
pub fn Location(location: String) -> impl IntoView {
    if location.starts_with("https://") || location.starts_with("http://") {
        view! { <a href=location.clone() rel="noopener">{location.clone()}</a> }.into_any()
    } else {
        view! { <span>{location}</span> }.into_any()
    }
}

/// How full a cohort is: places taken of the capacity, and the waitlist.
pub fn places_line(locale: Locale, c: &CohortCard) -> String {
    locale.t_with(
        "cohorts.places",
        &[
            ("taken", &c.taken().to_string()),
            ("capacity", &c.capacity.to_string()),
            ("waiting", &c.waitlisted.to_string()),
        ],
    )
}

fn window_line(locale: Locale, c: &CohortCard) -> String {
    if c.open_now {
        locale.t_with(
            "cohorts.open_until",
            &[("time", &format_time(&c.enrol_closes_at))],
        )
    } else {
        locale.t_with(
            "cohorts.window",
            &[
                ("opens", &format_time(&c.enrol_opens_at)),
                ("closes", &format_time(&c.enrol_closes_at)),
            ],
        )
    }
}

#[component]
pub fn StatusPill(status: EnrolmentStatus) -> impl IntoView {
    let locale = use_locale();
    view! {
        <span class=format!("pill enrolment-{status}") data-enrolment=status.as_str()>
            {locale.t(&format!("enrolment.status_{status}"))}
        </span>
    }
}

#[component]
pub fn CohortsPage() -> impl IntoView {
    let locale = use_locale();
    let cohorts = Resource::new(|| (), |_| list_cohorts(false));
    view! {
        <div class="title-row">
            <h1>{locale.t("cohorts.title")}</h1>
            <a href="/verify-certificate">{locale.t("certificate.verify_link")}</a>
        </div>
        <p class="lead">{locale.t("cohorts.lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match cohorts.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <div class="empty"><p>{locale.t("cohorts.none")}</p></div>
                    }.into_any(),
                    Ok(list) => view! {
                        <ul class="round-list">
                            {list.into_iter().map(|c| {
                                let places = places_line(locale, &c);
                                let window = window_line(locale, &c);
                                view! {
                                    <li class="card" data-cohort=c.id>
                                        <h2><a href=format!("/cohorts/{}", c.id)>{c.title(locale)}</a></h2>
                                        <p class="meta">
                                            {locale.t(&format!("track.{}", c.track))} " · "
                                            {date(&c.starts_on)} " – " {date(&c.ends_on)} " · "
                                            <Location location=c.location.clone()/>
                                        </p>
                                        <p class="meta">{places} " · " {window}</p>
                                        {c.my_status.map(|s| view! { <StatusPill status=s/> })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn CohortPage() -> impl IntoView {
    let id = param_id("id");
    let detail = Resource::new(move || id.get(), get_cohort);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => view! { <CohortView d/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CohortView(d: CohortDetail) -> impl IntoView {
    let locale = use_locale();
    let c = d.card.clone();
    let description = pick(locale, &d.description_en, &d.description_zh).to_string();
    let rule = locale.t_with(
        "cohorts.completion_rule",
        &[("percent", &d.completion_percent.to_string())],
    );
    let any_open = d.sessions.iter().any(|s| s.checkin_open);
    let show_attendance = d.me.is_some();
    view! {
        <p class="meta"><a href="/cohorts">{locale.t("cohorts.back")}</a>
            {d.is_admin.then(|| view! { " · " <a href=format!("/admin/cohorts/{}", c.id) data-testid="manage-cohort">{locale.t("cohorts.manage")}</a> })}
        </p>
        <div class="split">
            <section class="card">
                <h1 data-testid="cohort-title">{c.title(locale)}</h1>
                <p class="meta">{locale.t(&format!("track.{}", c.track))}</p>
                <p class="answer">{description}</p>
                <dl class="facts">
                    <dt>{locale.t("cohorts.dates")}</dt><dd>{date(&c.starts_on)} " – " {date(&c.ends_on)}</dd>
                    <dt>{locale.t("cohorts.location")}</dt><dd><Location location=c.location.clone()/></dd>
                    <dt>{locale.t("cohorts.enrolment")}</dt><dd>{window_line(locale, &c)}</dd>
                    <dt>{locale.t("cohorts.places_label")}</dt><dd data-testid="places">{places_line(locale, &c)}</dd>
                    <dt>{locale.t("cohorts.completion")}</dt><dd>{rule}</dd>
                </dl>
                <h2>{locale.t("cohorts.sessions")}</h2>
                {d.sessions.is_empty().then(|| view! { <p class="empty">{locale.t("cohorts.no_sessions")}</p> })}
                {(!d.sessions.is_empty()).then(|| view! {
                    <div class="table-scroll" tabindex="0"><table class="data">
                        <thead><tr>
                            <th>{locale.t("cohorts.session_time")}</th>
                            <th>{locale.t("cohorts.topic")}</th>
                            <th>{locale.t("cohorts.instructor")}</th>
                            {show_attendance.then(|| view! { <th>{locale.t("cohorts.my_attendance")}</th> })}
                        </tr></thead>
                        <tbody>
                            {d.sessions.iter().map(|s| {
                                let mark = match s.attended {
                                    Some(true) => locale.t("cohorts.present"),
                                    Some(false) => locale.t("cohorts.absent"),
                                    None => "–".to_string(),
                                };
                                view! {
                                    <tr data-session=s.id>
                                        <td>{format_time(&s.starts_at)} " – " {crate::components::format_clock(&s.ends_at)}</td>
                                        <td>{s.topic.clone()}</td>
                                        <td>{s.instructor.clone()}</td>
                                        {show_attendance.then(|| view! { <td data-attended=s.attended.map(|a| a.to_string())>{mark}</td> })}
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table></div>
                })}
            </section>
            <section class="card" data-testid="my-place">
                <MyPlace d=d.clone() any_open/>
            </section>
        </div>
    }
}

#[component]
fn MyPlace(d: CohortDetail, any_open: bool) -> impl IntoView {
    let locale = use_locale();
    let enrol = mutation::<Enrol>();
    let withdraw = mutation::<WithdrawEnrolment>();
    let check_in = mutation::<CheckIn>();
    let id = d.card.id;
    let open = d.card.open_now;
    let me = d.me.clone();
    let state = me.as_ref().map(|m| m.status);
    let can_enrol = open && matches!(state, None | Some(EnrolmentStatus::Withdrawn));
    let can_withdraw = matches!(
        state,
        Some(EnrolmentStatus::Enrolled | EnrolmentStatus::Waitlisted)
    );
    let attending = state == Some(EnrolmentStatus::Enrolled);
    let summary = match &me {
        None => locale.t("cohorts.not_enrolled"),
        Some(m) => match m.status {
            EnrolmentStatus::Enrolled => locale.t_with(
                "cohorts.you_enrolled",
                &[("attended", &m.attended.to_string())],
            ),
            EnrolmentStatus::Waitlisted => locale.t_with(
                "cohorts.you_waitlisted",
                &[("position", &m.waitlist_position.unwrap_or(0).to_string())],
            ),
            EnrolmentStatus::Completed => locale.t("cohorts.you_completed"),
            _ => locale.t("cohorts.you_withdrew"),
        },
    };
    view! {
        <h2>{locale.t("cohorts.your_place")}</h2>
        {state.map(|s| view! { <p><StatusPill status=s/></p> })}
        <p data-testid="my-status">{summary}</p>
        {me.as_ref().and_then(|m| m.certificate_code.clone()).map(|code| view! {
            <p><a class="button" href=format!("/certificates/{code}") data-testid="certificate-link">{locale.t("certificate.view")}</a></p>
        })}
        <ErrorBanner error=action_error(enrol)/>
        <ErrorBanner error=action_error(withdraw)/>
        {(!d.signed_in && open).then(|| view! {
            <p><a class="button" href="/login">{locale.t("cohorts.sign_in_to_enrol")}</a></p>
        })}
        {(d.signed_in && can_enrol).then(|| view! {
            <Form action=enrol banner=false>
                <input type="hidden" name="cohort_id" value=id/>
                <Submit testid="enrol">{locale.t("cohorts.enrol")}</Submit>
            </Form>
        })}
        {(d.signed_in && !open && !can_withdraw && state != Some(EnrolmentStatus::Completed)).then(|| view! {
            <p class="hint">{locale.t("cohorts.enrolment_closed")}</p>
        })}
        {(attending && any_open).then(|| view! {
            <h3>{locale.t("cohorts.check_in")}</h3>
            <Form action=check_in class="form compact">
                <input type="hidden" name="cohort_id" value=id/>
                <div class="field">
                    <label for="f-code">{locale.t("cohorts.checkin_code")}</label>
                    <input id="f-code" name="code" autocomplete="off" autocapitalize="characters" maxlength="12"/>
                </div>
                <Submit testid="check-in">{locale.t("cohorts.check_in")}</Submit>
            </Form>
        })}
        {can_withdraw.then(|| view! {
            <Form action=withdraw class="aside" banner=false>
                <input type="hidden" name="cohort_id" value=id/>
                <Submit class="secondary" testid="withdraw">{locale.t("cohorts.withdraw")}</Submit>
            </Form>
        })}
    }
}

/// The certificate itself, laid out to print on one page.
#[component]
pub fn CertificateCard(cert: CertificateView) -> impl IntoView {
    let locale = use_locale();
    let title = pick(locale, &cert.cohort_title_en, &cert.cohort_title_zh).to_string();
    view! {
        <article class="certificate" data-testid="certificate" data-code=cert.code.clone()>
            <p class="certificate-kicker">{locale.t("app.name")}</p>
            <h1>{locale.t("certificate.heading")}</h1>
            <p>{locale.t("certificate.awarded_to")}</p>
            <p class="certificate-name" data-testid="holder">{cert.holder_name.clone()}</p>
            <p>{locale.t("certificate.for_completing")}</p>
            <p class="certificate-cohort">{title}</p>
            <p class="meta">
                {locale.t(&format!("track.{}", cert.track))} " · "
                {date(&cert.starts_on)} " – " {date(&cert.ends_on)}
            </p>
            <p>{locale.t_with(
                "certificate.attended",
                &[("attended", &cert.sessions_attended.to_string()), ("total", &cert.sessions_total.to_string())],
            )}</p>
            <dl class="facts certificate-facts">
                <dt>{locale.t("certificate.issued")}</dt><dd>{crate::components::format_day(&cert.issued_at)}</dd>
                <dt>{locale.t("certificate.code")}</dt><dd><code data-testid="code">{cert.code.clone()}</code></dd>
            </dl>
            <p class="hint">{locale.t_with("certificate.verify_at", &[("path", &format!("/verify-certificate?code={}", cert.code))])}</p>
        </article>
    }
}

#[component]
pub fn CertificatePage() -> impl IntoView {
    let locale = use_locale();
    let params = use_params_map();
    let code = Memo::new(move |_| params.with(|p| p.get("code").unwrap_or_default()));
    let cert = Resource::new(move || code.get(), verify_certificate);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match cert.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(cert) => view! {
                        <p class="no-print actions">
                            <PrintButton testid="print"/>
                            <a href=format!("/verify-certificate?code={}", cert.code)>{locale.t("certificate.verify_link")}</a>
                        </p>
                        <CertificateCard cert/>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Anyone can check a certificate's code here, without signing in.
#[component]
pub fn VerifyPage() -> impl IntoView {
    let locale = use_locale();
    let query = use_query_map();
    let code = Memo::new(move |_| query.with(|q| q.get("code").unwrap_or_default()));
    let result = Resource::new(
        move || code.get(),
        |code| async move {
            if code.trim().is_empty() {
                None
            } else {
                Some(verify_certificate(code).await)
            }
        },
    );
    view! {
        <section class="card narrow wide">
            <h1>{locale.t("certificate.verify_title")}</h1>
            <p class="lead">{locale.t("certificate.verify_lead")}</p>
            <form method="get" action="/verify-certificate" class="search">
                <label class="visually-hidden" for="f-code">{locale.t("certificate.code")}</label>
                <input id="f-code" name="code" value=move || code.get() placeholder="HC-XXXX-XXXX-XXXX" autocomplete="off"/>
                <Submit testid="verify">{locale.t("certificate.verify")}</Submit>
            </form>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match result.await {
                        None => ().into_any(),
                        Some(Ok(cert)) => view! {
                            <div class="banner notice" role="status" data-testid="verified">
                                {locale.t_with("certificate.valid", &[("name", &cert.holder_name)])}
                            </div>
                            <CertificateCard cert/>
                        }.into_any(),
                        Some(Err(AppError::NotFound)) => view! {
                            <div class="banner error" role="alert" data-testid="not-verified">{locale.t("certificate.unknown")}</div>
                        }.into_any(),
                        Some(Err(e)) => view! { <ErrorBanner error=Signal::derive(move || Some(e.clone()))/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// The signed-in person's cohorts, next sessions and certificates.
#[component]
pub fn MyTrainingPanel() -> impl IntoView {
    let locale = use_locale();
    let training = Resource::new(|| (), |_| get_my_training());
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(t) = training.await else { return ().into_any() };
                view! {
                    <section class="card training" data-testid="my-training">
                        <div class="title-row">
                            <h2>{locale.t("training.title")}</h2>
                            <a href="/cohorts">{locale.t("training.browse")}</a>
                        </div>
                        {t.cohorts.is_empty().then(|| view! { <p class="meta">{locale.t("training.none")}</p> })}
                        <ul class="plain">
                            {t.cohorts.iter().map(|c| view! {
                                <li data-cohort=c.id>
                                    <a href=format!("/cohorts/{}", c.id)>{c.title(locale)}</a> " "
                                    {c.my_status.map(|s| view! { <StatusPill status=s/> })}
                                </li>
                            }).collect_view()}
                        </ul>
                        {(!t.next_sessions.is_empty()).then(|| view! {
                            <h3>{locale.t("training.next_sessions")}</h3>
                            <ul class="plain">
                                {t.next_sessions.iter().map(|s| view! {
                                    <li>
                                        <strong>{format_time(&s.starts_at)}</strong> " · "
                                        <a href=format!("/cohorts/{}", s.cohort_id)>{pick(locale, &s.cohort_title_en, &s.cohort_title_zh).to_string()}</a>
                                        " · " {s.topic.clone()}
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                        {(!t.certificates.is_empty()).then(|| view! {
                            <h3>{locale.t("training.certificates")}</h3>
                            <ul class="plain">
                                {t.certificates.iter().map(|c| view! {
                                    <li data-certificate=c.code.clone()>
                                        <a href=format!("/certificates/{}", c.code)>{pick(locale, &c.cohort_title_en, &c.cohort_title_zh).to_string()}</a>
                                        " · " <code>{c.code.clone()}</code>
                                    </li>
                                }).collect_view()}
                            </ul>
                        })}
                    </section>
                }.into_any()
            })}
        </Transition>
    }
}
