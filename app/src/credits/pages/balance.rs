//! A startup's GPU credit: the balance per resource with its burn-down and forecast, on the
//! founder's own page and on the startup's page.
use super::*;

/// A grant's remaining balance over its validity, as a step line, with the forecast dashed
/// from today to where the last 14 days' burn rate takes it. Drawn on the server as SVG.
#[component]
pub fn BurnDownChart(burn: BurnDown) -> impl IntoView {
    let locale = use_locale();
    const W: f64 = 640.0;
    const H: f64 = 200.0;
    const LEFT: f64 = 64.0;
    const BOTTOM: f64 = 24.0;
    const TOP: f64 = 10.0;
    let now = burn.as_of;
    let start = burn
        .valid_from
        .min(burn.points.first().map(|p| p.0).unwrap_or(burn.valid_from));
    let end = burn
        .valid_until
        .max(now.min(burn.valid_until + chrono::Duration::days(7)));
    let span = (end - start).num_seconds().max(1) as f64;
    let peak = burn.peak_minutes.max(1) as f64;
    let x = move |t: chrono::DateTime<chrono::Utc>| {
        LEFT + ((t - start).num_seconds() as f64 / span).clamp(0.0, 1.0) * (W - LEFT - 8.0)
    };
    let y = move |m: i64| TOP + (1.0 - (m.max(0) as f64 / peak).min(1.0)) * (H - TOP - BOTTOM);
    let (tx, ty) = (move |t| Tenths(x(t)), move |m| Tenths(y(m)));
    // Written in place: a chart has up to a few hundred points.
    use std::fmt::Write as _;
    let mut path = String::with_capacity(burn.points.len() * 26 + 16);
    let mut last: Option<i64> = None;
    for (t, b) in &burn.points {
        let px = tx(*t);
        let _ = match last {
            None => write!(path, "M{px},{}", ty(*b)),
            Some(prev) => write!(path, " L{px},{} L{px},{}", ty(prev), ty(*b)),
        };
        last = Some(*b);
    }
    if let Some(b) = last {
        let _ = write!(path, " L{},{}", tx(now.min(burn.valid_until)), ty(b));
    }
    let forecast = (burn.burn_per_day > 0 && burn.remaining_minutes > 0).then(|| {
        let until = burn.exhausts_at.unwrap_or(burn.valid_until);
        let days = (until - now).num_minutes() as f64 / 1440.0;
        let left = burn.remaining_minutes - (burn.burn_per_day as f64 * days) as i64;
        format!(
            "M{},{} L{},{}",
            tx(now),
            ty(burn.remaining_minutes),
            tx(until),
            ty(left)
        )
    });
    let summary = if burn.burn_per_day == 0 {
        locale.t("burn.idle")
    } else {
        let rate = format_gpu_hours(burn.burn_per_day);
        match burn.exhausts_at {
            Some(t) => locale.t_with(
                "burn.runs_out",
                &[
                    ("rate", &rate),
                    ("date", &crate::components::format_day(&t)),
                ],
            ),
            None => locale.t_with("burn.lasts", &[("rate", &rate)]),
        }
    };
    let label = locale.t_with(
        "burn.label",
        &[("hours", &format_gpu_hours(burn.remaining_minutes))],
    );
    let peak_label = locale.t_with(
        "units.gpu_hours_short",
        &[("hours", &format_gpu_hours(burn.peak_minutes))],
    );
    let today = x(now);
    view! {
        <figure class="chart" data-testid="burn-down" data-exhausts=burn.exhausts_at.map(|t| crate::components::format_day(&t))>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-label=label preserveAspectRatio="xMidYMid meet">
                <line x1=LEFT y1=TOP x2=LEFT y2=H - BOTTOM class="axis"/>
                <line x1=LEFT y1=H - BOTTOM x2=W - 8.0 y2=H - BOTTOM class="axis"/>
                <text x=LEFT - 6.0 y=TOP + 10.0 text-anchor="end" class="tick">{peak_label}</text>
                <text x=LEFT - 6.0 y=H - BOTTOM text-anchor="end" class="tick">"0"</text>
                <text x=LEFT y=H - 6.0 class="tick">{crate::components::format_day(&start)}</text>
                <text x=W - 8.0 y=H - 6.0 text-anchor="end" class="tick">{crate::components::format_day(&burn.valid_until)}</text>
                {(today > LEFT && today < W - 8.0).then(|| view! { <line x1=today y1=TOP x2=today y2=H - BOTTOM class="today"/> })}
                <path d=path class="balance"/>
                {forecast.map(|d| view! { <path d=d class="forecast"/> })}
            </svg>
            <figcaption>{summary}</figcaption>
        </figure>
    }
}

/// A startup's credit on one resource: the balance of all its grants there, and their
/// burn-down and forecast taken together.
#[component]
fn ResourceCreditCard(c: ResourceCredit) -> impl IntoView {
    let locale = use_locale();
    let title = locale.t_with(
        "credits.on_resource",
        &[(
            "resource",
            &format!("{} ({})", c.resource_name, c.gpu_model),
        )],
    );
    view! {
        <section class="card" data-resource-credit=c.resource_id data-remaining=c.remaining_minutes>
            <h2>{title}</h2>
            <dl class="facts">
                <dt>{locale.t("credits.balance")}</dt>
                <dd data-testid="balance">{locale.t_with("credits.balance_of", &[("remaining", &hours(c.remaining_minutes)), ("granted", &hours(c.granted_minutes))])}</dd>
                <dt>{locale.t("grants.consumed")}</dt>
                <dd data-testid="consumed">{locale.t_with("units.gpu_hours_short", &[("hours", &hours(c.consumed_minutes))])}</dd>
                <dt>{locale.t("credits.grants")}</dt>
                <dd>{c.grants}</dd>
            </dl>
            <BurnDownChart burn=c.burn/>
        </section>
    }
}

/// A startup's credit on its startup page, for admins and its mentors: its grants, then each
/// resource's balance, burn-down and forecast.
#[component]
pub fn StartupCreditSection(
    c: StartupCredit,
    #[prop(default = false)] link: bool,
) -> impl IntoView {
    let locale = use_locale();
    view! {
        <section class="card" id="credit" data-testid="startup-credit">
            <h2>{locale.t("credits.title")}</h2>
            {c.grants.is_empty().then(|| view! { <p class="empty">{locale.t("credits.startup_none")}</p> })}
            {(!c.grants.is_empty()).then(|| view! { <GrantsTable rows=c.grants link/> })}
        </section>
        {c.resources.into_iter().map(|r| view! { <ResourceCreditCard c=r/> }).collect_view()}
    }
}

/// The applicant's own GPU credit.
#[component]
pub fn CreditsPage() -> impl IntoView {
    let locale = use_locale();
    let data = Resource::new(|| (), |_| my_credit());
    view! {
        <h1>{locale.t("credits.title")}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(None) => view! { <div class="empty"><p>{locale.t("credits.no_startup")}</p></div> }.into_any(),
                    Ok(Some(c)) if c.grants.is_empty() => view! { <div class="empty"><p>{locale.t("credits.none")}</p></div> }.into_any(),
                    Ok(Some(c)) => view! {
                        <p class="lead">{c.startup_name.clone()}</p>
                        <section class="card"><GrantsTable rows=c.grants.clone() link=false/></section>
                        {(!c.tranches.is_empty()).then(|| view! {
                            <section class="card">
                                <h2>{locale.t("tranches.title")}</h2>
                                <TranchesTable rows=c.tranches.clone()/>
                            </section>
                        })}
                        {c.resources.iter().cloned().map(|r| view! { <ResourceCreditCard c=r/> }).collect_view()}
                        // A grant's own chart only where the resource has several (with one,
                        // the resource's chart is the grant's).
                        {c.burns.into_iter().zip(c.grants).filter(|(_, g)| {
                            c.resources.iter().any(|r| r.resource_id == g.resource_id && r.grants > 1)
                        }).map(|(b, g)| view! {
                            <section class="card" data-grant-burn=g.id>
                                <h2>{locale.t_with("credits.grant_on", &[("id", &g.id.to_string()), ("resource", &format!("{} ({})", g.resource_name, g.gpu_model))])}</h2>
                                <BurnDownChart burn=b/>
                            </section>
                        }).collect_view()}
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

/// A chart's coordinate to one decimal, like `{:.1}` (an exact tie may round the other way,
/// a tenth of a pixel), but by integer formatting: a chart has hundreds of them, and float
/// formatting was a visible part of the credit page's time.
#[derive(Clone, Copy)]
struct Tenths(f64);

impl std::fmt::Display for Tenths {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenths = (self.0 * 10.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        let abs = tenths.unsigned_abs();
        write!(f, "{sign}{}.{}", abs / 10, abs % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::Tenths;

    #[test]
    fn tenths_are_written_as_one_decimal() {
        for (v, want) in [
            (0.0, "0.0"),
            (64.0, "64.0"),
            (632.04, "632.0"),
            (10.06, "10.1"),
            (199.99, "200.0"),
            (-3.04, "-3.0"),
            (-0.26, "-0.3"),
        ] {
            assert_eq!(Tenths(v).to_string(), want, "{v}");
        }
    }
}
