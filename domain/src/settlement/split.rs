//! The split of a month's compute bill (issue 17): each job's charge is its GPU-hours at the
//! price in force when it ended; the park's own credit (the grants, in hours) pays first, then
//! every programme the startup is enrolled in pays its rate of what is left, in the order the
//! programmes are given and never past any of their caps; the startup pays the rest.
//!
//! Pure: the caller reads the lines, the programmes' rates and what each cap has left, and
//! stores what the split took. Money is whole fen (1 yuan = 100 fen), rates are basis points
//! (1 % = 100). Charges round half up to the fen; subsidies round down, so a claim never asks
//! a sponsor for a fen more than its rate gives.
use chrono::NaiveDate;

/// Money in fen.
pub type Fen = i64;
/// A rate in basis points: 10 000 is 100 %.
pub type Bp = i64;

/// 100 %, in basis points.
pub const FULL: Bp = 10_000;

/// One finished job on a statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Line {
    /// GPU-minutes the job used.
    pub gpu_minutes: i64,
    /// Of those, the GPU-minutes the park's grants held when it ended (the rest overdrew them).
    pub covered_minutes: i64,
    /// The price per GPU-hour in force when the job ended.
    pub price_per_gpu_hour: Fen,
    /// Whether the resource is domestic compute (some programmes pay a higher rate for it).
    pub domestic: bool,
    /// The day (in the park's zone) the job ended: a programme pays only within its window.
    pub ended_on: NaiveDate,
}

/// What one programme may pay on this statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fund {
    pub programme_id: i64,
    /// The rate on domestic compute and on other compute, for this startup (a young startup's
    /// higher rate is chosen by the caller: see `Rates::for_startup`).
    pub domestic_rate: Bp,
    pub other_rate: Bp,
    /// The days the programme pays for (the programme's window within the enrolment's).
    pub from: NaiveDate,
    pub until: NaiveDate,
    /// What the programme may still pay this startup: the least of what every cap has left
    /// (per company and year, the pool, the contract, the enrolment's own). None: no cap.
    pub left: Option<Fen>,
}

impl Fund {
    fn rate(&self, line: &Line) -> Bp {
        if line.ended_on < self.from || line.ended_on > self.until {
            0
        } else if line.domestic {
            self.domestic_rate
        } else {
            self.other_rate
        }
    }
}

/// One line's three parts; `park + subsidies + own == amount`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineSplit {
    pub amount: Fen,
    pub park: Fen,
    /// What each fund paid, in the funds' order.
    pub subsidies: Vec<Fen>,
    pub own: Fen,
}

/// A statement's totals.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub amount: Fen,
    pub park: Fen,
    /// Per fund, in the funds' order.
    pub subsidies: Vec<Fen>,
    pub own: Fen,
}

/// GPU-minutes at a price per GPU-hour, to the fen (half up).
pub fn charge(gpu_minutes: i64, price_per_gpu_hour: Fen) -> Fen {
    crate::credits::prices::amount(gpu_minutes, price_per_gpu_hour)
}

/// `rate` of `base`, rounded down to the fen.
pub fn share(base: Fen, rate: Bp) -> Fen {
    (i128::from(base.max(0)) * i128::from(rate.clamp(0, FULL)) / i128::from(FULL)) as Fen
}

/// Splits the lines, in their order, and takes what each fund pays from its `left`.
pub fn split(lines: &[Line], funds: &mut [Fund]) -> (Vec<LineSplit>, Totals) {
    let mut totals = Totals {
        subsidies: vec![0; funds.len()],
        ..Totals::default()
    };
    let mut out = Vec::with_capacity(lines.len());
    for line in lines {
        let amount = charge(line.gpu_minutes, line.price_per_gpu_hour);
        let covered = line.covered_minutes.clamp(0, line.gpu_minutes.max(0));
        let park = charge(covered, line.price_per_gpu_hour).min(amount);
        // What the startup owes once the park's credit has paid: every programme's rate is of
        // this, and together they never pay more than it.
        let base = amount - park;
        let mut open = base;
        let mut subsidies = Vec::with_capacity(funds.len());
        for (i, fund) in funds.iter_mut().enumerate() {
            let mut pay = share(base, fund.rate(line)).min(open);
            if let Some(left) = fund.left.as_mut() {
                pay = pay.min(*left);
                *left -= pay;
            }
            open -= pay;
            totals.subsidies[i] += pay;
            subsidies.push(pay);
        }
        totals.amount += amount;
        totals.park += park;
        totals.own += open;
        out.push(LineSplit {
            amount,
            park,
            subsidies,
            own: open,
        });
    }
    (out, totals)
}

/// A programme's rates: on domestic and on other compute, and for young startups (founded
/// fewer than `young_years` ago) a rate of their own on both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rates {
    pub domestic: Bp,
    pub other: Bp,
    pub young: Option<(Bp, u32)>,
}

impl Rates {
    /// (domestic, other) for a startup founded on `founded`, as of `on`.
    pub fn for_startup(&self, founded: NaiveDate, on: NaiveDate) -> (Bp, Bp) {
        match self.young {
            Some((rate, years)) if years_between(founded, on) < years => (rate, rate),
            _ => (self.domestic, self.other),
        }
    }
}

/// Whole years from `from` to `to` (0 when `to` is earlier).
fn years_between(from: NaiveDate, to: NaiveDate) -> u32 {
    to.years_since(from).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2027, 3, d).unwrap()
    }

    /// A job of `hours` GPU-hours at ¥`yuan` an hour, `covered` hours of it on park credit.
    fn line(hours: i64, covered: i64, yuan: i64, domestic: bool) -> Line {
        Line {
            gpu_minutes: hours * 60,
            covered_minutes: covered * 60,
            price_per_gpu_hour: yuan * 100,
            domestic,
            ended_on: day(10),
        }
    }

    fn fund(id: i64, domestic: Bp, other: Bp, left: Option<Fen>) -> Fund {
        Fund {
            programme_id: id,
            domestic_rate: domestic,
            other_rate: other,
            from: day(1),
            until: day(31),
            left,
        }
    }

    #[test]
    fn a_charge_rounds_half_up_to_the_fen() {
        // 1 GPU-minute at ¥8.00 an hour is 13.33… fen; 3 minutes at 10 fen is 0.5 fen.
        assert_eq!(charge(1, 800), 13);
        assert_eq!(charge(3, 10), 1);
        assert_eq!(charge(60, 1234), 1234);
        assert_eq!(charge(0, 800), 0);
        assert_eq!(charge(-5, 800), 0, "no negative use");
    }

    #[test]
    fn a_share_rounds_down_in_the_sponsors_favour() {
        assert_eq!(share(1001, 3000), 300);
        assert_eq!(share(999, FULL), 999);
        assert_eq!(share(999, 12_000), 999, "never above 100 %");
        assert_eq!(share(999, -5), 0);
    }

    #[test]
    fn park_credit_pays_first_then_the_programme_then_the_startup() {
        // 100 h at ¥10: ¥1,000; 40 h on credit (¥400); 30 % of ¥600 is ¥180; the startup ¥420.
        let mut funds = [fund(1, 3000, 2000, None)];
        let (lines, t) = split(&[line(100, 40, 10, true)], &mut funds);
        assert_eq!(
            lines[0],
            LineSplit {
                amount: 100_000,
                park: 40_000,
                subsidies: vec![18_000],
                own: 42_000
            }
        );
        assert_eq!(
            (t.amount, t.park, t.subsidies.clone(), t.own),
            (100_000, 40_000, vec![18_000], 42_000)
        );
    }

    #[test]
    fn domestic_compute_may_earn_a_higher_rate() {
        let mut funds = [fund(1, 3000, 2000, None)];
        let (lines, _) = split(&[line(10, 0, 10, true), line(10, 0, 10, false)], &mut funds);
        assert_eq!(lines[0].subsidies, [3000]);
        assert_eq!(lines[1].subsidies, [2000]);
    }

    #[test]
    fn a_cap_stops_the_subsidy_across_lines() {
        // ¥1,000 left of the cap; 30 % of three ¥4,000 bills would be ¥3,600.
        let mut funds = [fund(1, 3000, 3000, Some(100_000))];
        let lines = vec![line(400, 0, 10, true); 3];
        let (split_lines, t) = split(&lines, &mut funds);
        let paid: Vec<Fen> = split_lines.iter().map(|l| l.subsidies[0]).collect();
        assert_eq!(paid, [100_000, 0, 0]);
        assert_eq!(t.subsidies, [100_000]);
        assert_eq!(funds[0].left, Some(0));
        assert_eq!(t.own, 3 * 400_000 - 100_000);
    }

    #[test]
    fn city_and_district_together_pay_at_most_the_whole_bill() {
        // Shanghai: the city 30 %, the district 80 %: together capped at 100 %.
        let mut funds = [fund(1, 3000, 3000, None), fund(2, 8000, 8000, None)];
        let (lines, _) = split(&[line(10, 0, 10, true)], &mut funds);
        assert_eq!(lines[0].subsidies, [3000, 7000]);
        assert_eq!(lines[0].own, 0);
    }

    #[test]
    fn a_programme_pays_only_for_jobs_within_its_window() {
        let mut f = fund(1, 5000, 5000, None);
        f.from = day(11);
        let mut funds = [f];
        let mut early = line(10, 0, 10, true);
        early.ended_on = day(10);
        let mut late = line(10, 0, 10, true);
        late.ended_on = day(11);
        let (lines, _) = split(&[early, late], &mut funds);
        assert_eq!((lines[0].subsidies[0], lines[1].subsidies[0]), (0, 5000));
    }

    #[test]
    fn credit_beyond_the_job_covers_no_more_than_the_job() {
        let mut funds = [fund(1, 3000, 3000, None)];
        let (lines, _) = split(&[line(10, 25, 10, true)], &mut funds);
        assert_eq!(
            (lines[0].park, lines[0].subsidies[0], lines[0].own),
            (10_000, 0, 0)
        );
    }

    #[test]
    fn young_startups_get_the_young_rate_on_every_kind_of_compute() {
        let shenzhen = Rates {
            domestic: 5000,
            other: 5000,
            young: Some((6000, 3)),
        };
        let founded = NaiveDate::from_ymd_opt(2025, 6, 1).unwrap();
        assert_eq!(shenzhen.for_startup(founded, day(1)), (6000, 6000));
        let old = NaiveDate::from_ymd_opt(2020, 6, 1).unwrap();
        assert_eq!(shenzhen.for_startup(old, day(1)), (5000, 5000));
        let hangzhou = Rates {
            domestic: 3000,
            other: 2000,
            young: None,
        };
        assert_eq!(hangzhou.for_startup(founded, day(1)), (3000, 2000));
    }

    /// Random months of random jobs against random programmes with random caps: every line's
    /// and every month's parts add up to its charge to the fen, nothing is negative, no
    /// programme pays above its rate, and no cap is ever exceeded across the months.
    #[test]
    fn parts_add_up_and_caps_hold_under_random_months() {
        use rand::{Rng, SeedableRng};
        let seed: u64 = std::env::var("HATCHERY_PROPTEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(rand::random);
        eprintln!("split property seed: {seed} (set HATCHERY_PROPTEST_SEED to replay)");
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for _ in 0..300 {
            let n = rng.random_range(0..4);
            let caps: Vec<Option<Fen>> = (0..n)
                .map(|_| rng.random_bool(0.7).then(|| rng.random_range(0..2_000_000)))
                .collect();
            let mut funds: Vec<Fund> = (0..n)
                .map(|i| {
                    let mut f = fund(
                        i as i64,
                        rng.random_range(0..=FULL),
                        rng.random_range(0..=FULL),
                        caps[i],
                    );
                    f.from = day(rng.random_range(1..=15));
                    f.until = day(rng.random_range(15..=31));
                    f
                })
                .collect();
            let mut paid = vec![0; n];
            for _month in 0..rng.random_range(1..13) {
                let lines: Vec<Line> = (0..rng.random_range(0..30))
                    .map(|_| {
                        let minutes = rng.random_range(0..50_000);
                        Line {
                            gpu_minutes: minutes,
                            covered_minutes: rng.random_range(0..=minutes + 100),
                            price_per_gpu_hour: rng.random_range(0..20_000),
                            domestic: rng.random_bool(0.5),
                            ended_on: day(rng.random_range(1..=31)),
                        }
                    })
                    .collect();
                let (parts, t) = split(&lines, &mut funds);
                for (l, p) in lines.iter().zip(&parts) {
                    assert_eq!(p.amount, charge(l.gpu_minutes, l.price_per_gpu_hour));
                    assert_eq!(p.park + p.subsidies.iter().sum::<Fen>() + p.own, p.amount);
                    assert!(p.park >= 0 && p.own >= 0 && p.subsidies.iter().all(|s| *s >= 0));
                    for (f, s) in funds.iter().zip(&p.subsidies) {
                        assert!(*s <= share(p.amount - p.park, f.rate(l)));
                    }
                }
                assert_eq!(t.park + t.subsidies.iter().sum::<Fen>() + t.own, t.amount);
                assert_eq!(t.amount, parts.iter().map(|p| p.amount).sum::<Fen>());
                for i in 0..n {
                    paid[i] += t.subsidies[i];
                    if let Some(cap) = caps[i] {
                        assert!(paid[i] <= cap, "fund {i} paid {} of {cap}", paid[i]);
                        assert_eq!(funds[i].left, Some(cap - paid[i]));
                    }
                }
            }
        }
    }
}
