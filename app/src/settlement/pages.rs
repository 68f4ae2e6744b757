//! Funding programmes (admins): the list, a programme's form and its enrolments; and on a
//! startup's page, its programmes, the form that enrols it, and its affiliated firms.
use super::server_fns::{
    get_programme, list_programmes, AddAffiliate, EndEnrolment, EnrolInProgramme, RemoveAffiliate,
    SaveProgramme,
};
use super::{format_percent, name_in, EnrolmentRow, ProgrammeRow, SponsorKind, StartupFunding};
use crate::components::{
    action_error, format_time, initial_checked, mutation, param_id, ErrorBanner, ErrorPage, Form,
    SelectField, Submit, TextArea, TextField,
};
use crate::credits::format_yuan;
use crate::i18n::{use_locale, Locale};
use leptos::prelude::*;

fn chinese(locale: Locale) -> bool {
    locale == Locale::ZhCn
}

/// A cap for people: the amount, or "no cap".
fn cap_text(locale: Locale, fen: Option<i64>) -> String {
    fen.map(format_yuan)
        .unwrap_or_else(|| locale.t("programme.no_cap"))
}

/// Yuan as the form shows them back: `8000000.00`.
fn yuan_value(fen: Option<i64>) -> String {
    fen.map(|f| format!("{}.{:02}", f / 100, f % 100))
        .unwrap_or_default()
}

/// Basis points as the form shows them back: `30`, `12.5`.
fn percent_value(bp: Option<i64>) -> String {
    bp.map(|b| format_percent(b).trim_end_matches(" %").to_string())
        .unwrap_or_default()
}

/// The rates of a programme in one line: `30 % domestic · 20 % other · 60 % if under 3 years`.
fn rates_text(locale: Locale, p: &ProgrammeRow) -> String {
    let mut text = locale.t_with(
        "programme.rates_line",
        &[
            ("domestic", &format_percent(p.rate_domestic_bp)),
            ("other", &format_percent(p.rate_other_bp)),
        ],
    );
    if let (Some(rate), Some(years)) = (p.young_rate_bp, p.young_years) {
        text.push_str(" · ");
        text.push_str(&locale.t_count(
            "programme.young_line",
            years.into(),
            &[("rate", &format_percent(rate))],
        ));
    }
    text
}

#[component]
pub fn ProgrammesPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| list_programmes());
    view! {
        <div class="title-row">
            <h1>{locale.t("programme.title")}</h1>
            <a class="button" href="/admin/programmes/new" data-testid="new-programme">{locale.t("programme.new")}</a>
        </div>
        <p class="lead">{locale.t("programme.lead")}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">{locale.t("programme.none")}</p> }.into_any(),
                    Ok(list) => view! {
                        <div class="table-scroll" tabindex="0"><table class="data">
                            <thead><tr>
                                <th>{locale.t("programme.name")}</th>
                                <th>{locale.t("programme.sponsor")}</th>
                                <th>{locale.t("programme.rates")}</th>
                                <th class="num">{locale.t("programme.cap_company_year")}</th>
                                <th class="num">{locale.t("programme.cap_pool")}</th>
                                <th>{locale.t("programme.window")}</th>
                                <th class="num">{locale.t("programme.enrolled")}</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|p| view! {
                                    <tr data-programme=p.id>
                                        <td><a href=format!("/admin/programmes/{}", p.id)>{p.name(chinese(locale)).to_string()}</a></td>
                                        <td>{p.sponsor.clone()}" · "{p.sponsor_kind.map(|k| locale.t(&format!("programme.sponsor_{k}"))).unwrap_or_default()}</td>
                                        <td>{rates_text(locale, &p)}</td>
                                        <td class="num">{cap_text(locale, p.cap_company_year_fen)}</td>
                                        <td class="num">{cap_text(locale, p.cap_pool_fen)}</td>
                                        <td>{window(&p)}</td>
                                        <td class="num">{p.enrolled}</td>
                                    </tr>
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

fn window(p: &ProgrammeRow) -> String {
    match (p.valid_from, p.valid_until) {
        (Some(a), Some(b)) => format!("{a} – {b}"),
        _ => String::new(),
    }
}

#[component]
pub fn NewProgrammePage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| list_programmes());
    view! {
        <p class="meta"><a href="/admin/programmes">{locale.t("programme.back")}</a></p>
        <section class="card narrow wide">
            <h1>{locale.t("programme.new")}</h1>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(list) => {
                            let others = list.iter().map(|p| (p.id, p.name_en.clone(), p.name_zh.clone())).collect();
                            view! { <ProgrammeForm p=ProgrammeRow::default() others/> }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
pub fn ProgrammePage() -> impl IntoView {
    let locale = use_locale();
    let id = param_id("id");
    let data = Resource::new(move || id.get(), get_programme);
    view! {
        <p class="meta"><a href="/admin/programmes">{locale.t("programme.back")}</a></p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => view! {
                        <section class="card narrow wide">
                            <h1>{d.programme.name(chinese(locale)).to_string()}</h1>
                            <ProgrammeForm p=d.programme.clone() others=d.others.clone()/>
                        </section>
                        <section class="card wide" data-testid="enrolments">
                            <h2>{locale.t_count("programme.enrolments", d.programme.enrolled, &[])}</h2>
                            <p class="hint">{locale.t("programme.enrol_hint")}</p>
                            <Enrolments rows=d.enrolments.clone() show_startup=true/>
                        </section>
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// A programme's definition: names, sponsor, rates, caps, window and eligibility rules.
#[component]
fn ProgrammeForm(p: ProgrammeRow, others: Vec<(i64, String, String)>) -> impl IntoView {
    let locale = use_locale();
    let action = mutation::<SaveProgramme>();
    let kinds: Vec<(String, String)> = SponsorKind::ALL
        .iter()
        .map(|k| {
            (
                k.as_str().to_string(),
                locale.t(&format!("programme.sponsor_{k}")),
            )
        })
        .collect();
    let new = p.id == 0;
    let excludes = p.excludes.clone();
    view! {
        <Form action class="form">
            <input type="hidden" name="id" value=p.id/>
            <TextField label=locale.t("programme.name_en") name="name_en" value=p.name_en.clone()/>
            <TextField label=locale.t("programme.name_zh") name="name_zh" value=p.name_zh.clone() hint=locale.t("programme.name_hint")/>
            <SelectField
                label=locale.t("programme.sponsor_kind")
                name="sponsor_kind"
                value=p.sponsor_kind.map(|k| k.as_str().to_string()).unwrap_or_else(|| "city".into())
                options=kinds
            />
            <TextField label=locale.t("programme.sponsor") name="sponsor" value=p.sponsor.clone() hint=locale.t("programme.sponsor_hint")/>
            <fieldset id="f-rate">
                <legend>{locale.t("programme.rates")}</legend>
                <TextField label=locale.t("programme.rate_domestic") name="rate_domestic" value=if new { String::new() } else { percent_value(Some(p.rate_domestic_bp)) } hint=locale.t("programme.rate_hint")/>
                <TextField label=locale.t("programme.rate_other") name="rate_other" value=if new { String::new() } else { percent_value(Some(p.rate_other_bp)) }/>
                <TextField label=locale.t("programme.young_rate") name="young_rate" value=percent_value(p.young_rate_bp) hint=locale.t("programme.young_rate_hint")/>
                <TextField label=locale.t("programme.young_years") name="young_years" kind="number" value=p.young_years.map(|y| y.to_string()).unwrap_or_default()/>
            </fieldset>
            <fieldset id="f-caps">
                <legend>{locale.t("programme.caps")}</legend>
                <p class="hint">{locale.t("programme.caps_hint")}</p>
                <TextField label=locale.t("programme.cap_company_year") name="cap_company_year" value=yuan_value(p.cap_company_year_fen)/>
                <TextField label=locale.t("programme.cap_pool") name="cap_pool" value=yuan_value(p.cap_pool_fen)/>
                <TextField label=locale.t("programme.cap_contract") name="cap_contract" value=yuan_value(p.cap_contract_fen)/>
            </fieldset>
            <TextField label=locale.t("programme.valid_from") name="valid_from" kind="date" value=p.valid_from.map(|d| d.to_string()).unwrap_or_default()/>
            <TextField label=locale.t("programme.valid_until") name="valid_until" kind="date" value=p.valid_until.map(|d| d.to_string()).unwrap_or_default()/>
            <fieldset>
                <legend>{locale.t("programme.eligibility")}</legend>
                <TextField label=locale.t("programme.region_prefix") name="region_prefix" value=p.region_prefix.clone().unwrap_or_default() hint=locale.t("programme.region_hint")/>
                <label class="check">
                    <input type="checkbox" name="unaffiliated_provider" value="on" checked=initial_checked("unaffiliated_provider", "on", p.unaffiliated_provider)/>
                    {locale.t("programme.unaffiliated_provider")}
                </label>
                {(!others.is_empty()).then(|| view! {
                    <fieldset id="f-excludes" data-testid="excludes">
                        <legend>{locale.t("programme.excludes")}</legend>
                        {others.into_iter().map(|(id, en, zh)| {
                            let name = name_in(chinese(locale), &en, &zh).to_string();
                            view! {
                                <label class="check">
                                    <input type="checkbox" name=format!("excludes[{id}]") value="on" checked=initial_checked(&format!("excludes[{id}]"), "on", excludes.contains(&id))/>
                                    {name}
                                </label>
                            }
                        }).collect_view()}
                    </fieldset>
                })}
            </fieldset>
            <Submit testid="save-programme">{locale.t(if new { "programme.create" } else { "form.save" })}</Submit>
        </Form>
    }
}

/// Enrolments as a table, each still running with a button that ends it.
#[component]
fn Enrolments(rows: Vec<EnrolmentRow>, show_startup: bool) -> impl IntoView {
    let locale = use_locale();
    let end = mutation::<EndEnrolment>();
    if rows.is_empty() {
        return view! { <p class="empty">{locale.t("programme.no_enrolments")}</p> }.into_any();
    }
    view! {
        <ErrorBanner error=action_error(end)/>
        <div class="table-scroll" tabindex="0"><table class="data">
            <thead><tr>
                <th>{locale.t(if show_startup { "programme.startup" } else { "programme.name" })}</th>
                <th class="num">{locale.t("programme.own_cap")}</th>
                <th>{locale.t("programme.reason")}</th>
                <th>{locale.t("programme.decided")}</th>
                <th></th>
            </tr></thead>
            <tbody>
                {rows.into_iter().map(|e| {
                    let who = if show_startup {
                        view! { <a href=format!("/startups/{}", e.startup_id)>{e.startup.clone()}</a> }.into_any()
                    } else {
                        let name = name_in(chinese(locale), &e.programme_en, &e.programme_zh).to_string();
                        view! { <a href=format!("/admin/programmes/{}", e.programme_id)>{name}</a> }.into_any()
                    };
                    view! {
                        <tr data-enrolment=e.id data-ended=e.ended_at.is_some().to_string()>
                            <td>{who}</td>
                            <td class="num">{e.cap_fen.map(format_yuan).unwrap_or_else(|| "—".into())}</td>
                            <td>{e.reason.clone()}</td>
                            <td>{e.decided_by.clone()}" · "{format_time(&e.decided_at)}</td>
                            <td>
                                {match e.ended_at {
                                    Some(t) => view! { <span class="pill">{locale.t_with("programme.ended_at", &[("time", &format_time(&t))])}</span> }.into_any(),
                                    None => view! {
                                        <Form action=end class="inline" banner=false>
                                            <input type="hidden" name="id" value=e.id/>
                                            <Submit class="ghost" testid=format!("end-enrolment-{}", e.id)>{locale.t("programme.end")}</Submit>
                                        </Form>
                                    }.into_any(),
                                }}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table></div>
    }
    .into_any()
}

/// A startup's programmes on its page (drawn for admins only): its enrolments, a form that
/// enrols it in an open programme, and the firms affiliated with it.
#[component]
pub fn StartupProgrammes(startup_id: i64, f: StartupFunding) -> impl IntoView {
    let locale = use_locale();
    let enrol = mutation::<EnrolInProgramme>();
    let add = mutation::<AddAffiliate>();
    let remove = mutation::<RemoveAffiliate>();
    let options: Vec<(String, String)> = f
        .programmes
        .iter()
        .map(|(id, en, zh)| (id.to_string(), name_in(chinese(locale), en, zh).to_string()))
        .collect();
    view! {
        <section class="card wide" id="programmes" data-testid="programmes">
            <h2>{locale.t("programme.of_startup")}</h2>
            <Enrolments rows=f.enrolments show_startup=false/>
            {if options.is_empty() {
                view! { <p class="hint">{locale.t("programme.none_open")}</p> }.into_any()
            } else {
                view! {
                    <h3>{locale.t("programme.enrol")}</h3>
                    <Form action=enrol class="form">
                        <input type="hidden" name="startup_id" value=startup_id/>
                        <SelectField label=locale.t("programme.name") name="programme_id" options/>
                        <TextField label=locale.t("programme.own_cap") name="cap" hint=locale.t("programme.own_cap_hint")/>
                        <TextArea label=locale.t("programme.reason") name="reason" rows=2/>
                        <Submit testid="enrol-programme">{locale.t("programme.enrol")}</Submit>
                    </Form>
                }.into_any()
            }}
            <h3>{locale.t("programme.affiliates")}</h3>
            <p class="hint">{locale.t("programme.affiliates_hint")}</p>
            <ErrorBanner error=action_error(remove)/>
            {(!f.affiliates.is_empty()).then(|| view! {
                <ul class="plain" data-testid="affiliates">
                    {f.affiliates.into_iter().map(|a| view! {
                        <li data-affiliate=a.id>
                            {a.name}" · "<code>{a.credit_code}</code>" "
                            <Form action=remove class="inline" banner=false>
                                <input type="hidden" name="id" value=a.id/>
                                <Submit class="ghost">{locale.t("programme.remove_affiliate")}</Submit>
                            </Form>
                        </li>
                    }).collect_view()}
                </ul>
            })}
            <Form action=add class="form">
                <input type="hidden" name="startup_id" value=startup_id/>
                <TextField label=locale.t("programme.affiliate_name") name="affiliate_name"/>
                <TextField label=locale.t("startup.credit_code") name="credit_code"/>
                <Submit testid="add-affiliate">{locale.t("programme.add_affiliate")}</Submit>
            </Form>
        </section>
    }
}
