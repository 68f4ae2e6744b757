//! Funding programmes (issue 17): what a sponsor (a city, a district, the park) pays of a
//! startup's compute bill, up to which caps, for whom. Pure rules: a programme's definition is
//! checked before it is stored, a startup is checked before it is enrolled (the first rule it
//! fails is named), and what a programme may still pay a startup is the least of what its
//! caps have left.
use super::split::{Bp, Fen, Rates, FULL};
use crate::error::{AppError, AppResult, Checks};
use chrono::NaiveDate;
use wire::startups::CreditCode;

/// A programme's caps; None is no cap of that kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Caps {
    /// What one company may receive in a calendar year (Hangzhou ¥8 M, Henan ¥1 M).
    pub per_company_year: Option<Fen>,
    /// What the programme pays in all, to every company together.
    pub pool: Option<Fen>,
    /// What one contract (a startup's with one provider) may receive.
    pub per_contract: Option<Fen>,
}

/// A programme as an admin defines it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Programme {
    pub id: i64,
    pub rates: Rates,
    pub caps: Caps,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    /// The start of the administrative division code (the credit code's characters 3–8) a
    /// company must be registered under: `31` for Shanghai, `3101` for one of its districts.
    pub region_prefix: Option<String>,
    /// The provider may not be the startup itself nor a firm affiliated with it (Yangzhou).
    pub unaffiliated_provider: bool,
    /// Programmes a startup may not also be enrolled in.
    pub excludes: Vec<i64>,
}

fn rate_ok(rate: Bp) -> bool {
    (0..=FULL).contains(&rate)
}

/// Every fault of a programme's definition at once: rates within 0–100 %, caps above zero
/// and not contradicting each other (a contract's cap within a company's yearly one, that
/// within the pool), a window that ends after it starts, a region made of digits.
pub fn check(p: &Programme) -> AppResult<()> {
    let mut checks = Checks::new();
    let young_rate_ok = p
        .rates
        .young
        .is_none_or(|(r, years)| rate_ok(r) && years > 0);
    checks.check(
        rate_ok(p.rates.domestic) && rate_ok(p.rates.other) && young_rate_ok,
        "rate",
        "error.programme_rate_invalid",
    );
    // Each set cap above zero, and within the next wider one that is set (one message for
    // the caps: `Checks` keeps a field's first fault).
    let caps: Vec<Fen> = [p.caps.per_contract, p.caps.per_company_year, p.caps.pool]
        .into_iter()
        .flatten()
        .collect();
    checks.check(
        caps.iter().all(|c| *c > 0),
        "caps",
        "error.programme_cap_invalid",
    );
    checks.check(
        caps.windows(2).all(|w| w[0] <= w[1]),
        "caps",
        "error.programme_caps_contradict",
    );
    checks.check(
        p.valid_until >= p.valid_from,
        "valid_until",
        "error.programme_window_order",
    );
    let region_ok = p
        .region_prefix
        .as_deref()
        .is_none_or(|r| (1..=6).contains(&r.len()) && r.chars().all(|c| c.is_ascii_digit()));
    checks.check(region_ok, "region_prefix", "error.programme_region_invalid");
    checks.check(
        !p.excludes.contains(&p.id),
        "excludes",
        "error.programme_excludes_itself",
    );
    checks.finish()
}

/// Why a startup cannot be enrolled in a programme: the first rule it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ineligible {
    /// The programme is for companies of one region and the startup has no credit code.
    NoCreditCode,
    /// Registered elsewhere.
    Region,
    /// The provider is the startup itself or affiliated with it.
    AffiliatedProvider,
    /// Already enrolled in a programme this one may not be combined with.
    Stacking { programme_id: i64 },
}

impl Ineligible {
    /// The translated message's key.
    pub fn key(&self) -> &'static str {
        match self {
            Ineligible::NoCreditCode => "error.ineligible_no_credit_code",
            Ineligible::Region => "error.ineligible_region",
            Ineligible::AffiliatedProvider => "error.ineligible_affiliated_provider",
            Ineligible::Stacking { .. } => "error.ineligible_stacking",
        }
    }
}

impl From<Ineligible> for AppError {
    fn from(why: Ineligible) -> AppError {
        AppError::conflict(why.key())
    }
}

/// The startup as a programme's rules see it.
#[derive(Clone, Debug, Default)]
pub struct Candidate<'a> {
    pub credit_code: Option<&'a CreditCode>,
    /// The credit codes of the compute providers it is billed by.
    pub providers: &'a [CreditCode],
    /// Firms affiliated with it (shareholders, subsidiaries), by credit code.
    pub affiliates: &'a [CreditCode],
    /// The programmes it is enrolled in already.
    pub enrolled_in: &'a [i64],
}

/// Whether one of the providers `c` is billed by is the startup itself or a firm affiliated
/// with it (checked at enrolment, and again on each statement, since affiliations change).
pub fn provider_affiliated(c: &Candidate) -> bool {
    c.providers
        .iter()
        .any(|provider| c.credit_code == Some(provider) || c.affiliates.contains(provider))
}

/// Whether `c` may be enrolled in `p`.
pub fn eligibility(p: &Programme, c: &Candidate) -> Result<(), Ineligible> {
    if let Some(prefix) = &p.region_prefix {
        let code = c.credit_code.ok_or(Ineligible::NoCreditCode)?;
        if !region_of(code).starts_with(prefix.as_str()) {
            return Err(Ineligible::Region);
        }
    }
    if p.unaffiliated_provider && provider_affiliated(c) {
        return Err(Ineligible::AffiliatedProvider);
    }
    if let Some(&other) = c.enrolled_in.iter().find(|id| p.excludes.contains(id)) {
        return Err(Ineligible::Stacking {
            programme_id: other,
        });
    }
    Ok(())
}

/// The administrative division code a company is registered under: characters 3–8 of its
/// credit code (GB 32100-2015).
pub fn region_of(code: &CreditCode) -> &str {
    &code.as_str()[2..8]
}

/// What each cap of a programme has paid this startup so far: in the statement's calendar
/// year, in all (to every company: the pool), and on the statement's contract.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Paid {
    pub company_year: Fen,
    pub pool: Fen,
    pub contract: Fen,
}

/// What the programme may still pay: the least of what every cap has left, the enrolment's
/// own cap (a yearly one, when smaller) included; never below zero. None: uncapped.
pub fn left(caps: &Caps, enrolment_cap: Option<Fen>, paid: Paid) -> Option<Fen> {
    let yearly = match (caps.per_company_year, enrolment_cap) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    [
        yearly.map(|c| c - paid.company_year),
        caps.pool.map(|c| c - paid.pool),
        caps.per_contract.map(|c| c - paid.contract),
    ]
    .into_iter()
    .flatten()
    .min()
    .map(|l| l.max(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// Hangzhou's: 30 % on domestic compute, 20 % on other, at most ¥8 M a company a year.
    fn hangzhou() -> Programme {
        Programme {
            id: 1,
            rates: Rates {
                domestic: 3000,
                other: 2000,
                young: None,
            },
            caps: Caps {
                per_company_year: Some(800_000_000),
                pool: Some(50_000_000_000),
                per_contract: None,
            },
            valid_from: day(2027, 1, 1),
            valid_until: day(2027, 12, 31),
            region_prefix: Some("3301".into()),
            unaffiliated_provider: false,
            excludes: vec![],
        }
    }

    fn code(s: &str) -> CreditCode {
        CreditCode::parse(s).unwrap()
    }

    fn keys(e: AppError) -> Vec<String> {
        match e {
            AppError::Invalid { key, .. } => vec![key],
            AppError::InvalidFields { errors } => errors.into_iter().map(|f| f.key).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_published_programme_is_accepted() {
        assert_eq!(check(&hangzhou()), Ok(()));
    }

    #[test]
    fn rates_stay_within_a_hundred_percent() {
        let mut p = hangzhou();
        p.rates.other = 10_001;
        assert_eq!(
            keys(check(&p).unwrap_err()),
            ["error.programme_rate_invalid"]
        );
        p.rates.other = 2000;
        p.rates.young = Some((6000, 0));
        assert_eq!(
            keys(check(&p).unwrap_err()),
            ["error.programme_rate_invalid"]
        );
    }

    #[test]
    fn caps_must_be_positive_and_nest() {
        let mut p = hangzhou();
        p.caps.per_company_year = Some(0);
        assert_eq!(
            keys(check(&p).unwrap_err()),
            ["error.programme_cap_invalid"]
        );
        // A company's year larger than the whole pool.
        p.caps.per_company_year = Some(60_000_000_000);
        assert_eq!(
            keys(check(&p).unwrap_err()),
            ["error.programme_caps_contradict"]
        );
        // A contract's cap above the company's year.
        p.caps.per_company_year = Some(100_000);
        p.caps.per_contract = Some(200_000);
        assert_eq!(
            keys(check(&p).unwrap_err()),
            ["error.programme_caps_contradict"]
        );
        p.caps.per_contract = Some(100_000);
        assert_eq!(check(&p), Ok(()));
    }

    #[test]
    fn every_fault_is_told_at_once() {
        let mut p = hangzhou();
        p.rates.domestic = -1;
        p.valid_until = day(2026, 1, 1);
        p.region_prefix = Some("Hangzhou".into());
        p.excludes = vec![1];
        assert_eq!(
            keys(check(&p).unwrap_err()),
            [
                "error.programme_rate_invalid",
                "error.programme_window_order",
                "error.programme_region_invalid",
                "error.programme_excludes_itself"
            ]
        );
    }

    #[test]
    fn only_companies_registered_in_the_region_are_eligible() {
        let p = hangzhou();
        // Beijing (110000) and a Hangzhou district (330106).
        let beijing = code("91110000802100433B");
        let c = Candidate {
            credit_code: Some(&beijing),
            ..Candidate::default()
        };
        assert_eq!(region_of(&beijing), "110000");
        assert_eq!(eligibility(&p, &c), Err(Ineligible::Region));
        assert_eq!(
            eligibility(&p, &Candidate::default()),
            Err(Ineligible::NoCreditCode)
        );
        let mut anywhere = p.clone();
        anywhere.region_prefix = None;
        assert_eq!(eligibility(&anywhere, &Candidate::default()), Ok(()));
        let mut beijing_only = p;
        beijing_only.region_prefix = Some("11".into());
        assert_eq!(eligibility(&beijing_only, &c), Ok(()));
    }

    #[test]
    fn a_provider_affiliated_with_the_startup_is_refused() {
        let mut p = hangzhou();
        p.region_prefix = None;
        p.unaffiliated_provider = true;
        let startup = code("91110000802100433B");
        let sister = code("91440300708461136T");
        let vendor = code("91350100M000100Y43");
        let providers = [vendor.clone()];
        let affiliates = [sister.clone()];
        let c = Candidate {
            credit_code: Some(&startup),
            providers: &providers,
            affiliates: &affiliates,
            enrolled_in: &[],
        };
        assert_eq!(eligibility(&p, &c), Ok(()));
        let own = [startup.clone()];
        let c2 = Candidate {
            providers: &own,
            ..c.clone()
        };
        assert_eq!(eligibility(&p, &c2), Err(Ineligible::AffiliatedProvider));
        let related = [sister];
        let c3 = Candidate {
            providers: &related,
            ..c
        };
        assert_eq!(eligibility(&p, &c3), Err(Ineligible::AffiliatedProvider));
    }

    #[test]
    fn programmes_that_exclude_each_other_do_not_stack() {
        let mut p = hangzhou();
        p.region_prefix = None;
        p.excludes = vec![7];
        let c = Candidate {
            enrolled_in: &[3, 7],
            ..Candidate::default()
        };
        assert_eq!(
            eligibility(&p, &c),
            Err(Ineligible::Stacking { programme_id: 7 })
        );
        assert_eq!(
            AppError::from(Ineligible::Stacking { programme_id: 7 }),
            AppError::conflict("error.ineligible_stacking")
        );
    }

    #[test]
    fn what_is_left_is_the_tightest_cap() {
        let caps = Caps {
            per_company_year: Some(100_000),
            pool: Some(1_000_000),
            per_contract: Some(80_000),
        };
        let paid = Paid {
            company_year: 30_000,
            pool: 950_000,
            contract: 10_000,
        };
        // Year: 70 000 left; pool: 50 000; contract: 70 000.
        assert_eq!(left(&caps, None, paid), Some(50_000));
        // The enrolment's own yearly cap, when smaller, wins.
        assert_eq!(left(&caps, Some(40_000), paid), Some(10_000));
        // A cap already overrun leaves nothing, not less than nothing.
        let over = Paid {
            pool: 2_000_000,
            ..paid
        };
        assert_eq!(left(&caps, None, over), Some(0));
        assert_eq!(left(&Caps::default(), None, paid), None);
        assert_eq!(left(&Caps::default(), Some(5), Paid::default()), Some(5));
    }
}
