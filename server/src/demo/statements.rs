//! The demo's year of statements: every job of the last twelve full months and of this one
//! priced as the usage import prices it (the price in force on the day it ended, in the park's
//! zone), and each full month's statement per startup and provider split by the same rules
//! the app applies (`domain::settlement::split`), the programmes' caps counted across the
//! months. The last month's statements are issued; older ones are paid, with their evidence.
//! (The demo's clusters stop a team at its credit, so the park's credit pays every job here;
//! the programmes' share shows where a startup uses more than its credit.)
use super::world::{days, next_id, World};
use chrono::{Datelike, NaiveDate};
use domain::credits::entity::charge;
use domain::credits::LedgerKind;
use domain::settlement::entity::{
    statement, statement_line, statement_line_subsidy, statement_subsidy,
};
use domain::settlement::split::{self, Fund, Line};
use std::collections::HashMap;
use wire::settlement::statements::{period_of, StatementStatus};

/// The first day of the month `back` months before the one `day` is in.
fn month_start(day: NaiveDate, back: i32) -> NaiveDate {
    let index = day.year() * 12 + day.month0() as i32 - back;
    NaiveDate::from_ymd_opt(index.div_euclid(12), index.rem_euclid(12) as u32 + 1, 1).unwrap_or(day)
}

impl World {
    pub fn statements(&mut self) {
        let zone = domain::time::Zone::default();
        let today = zone.date(&self.t0);
        let first = month_start(today, 12);
        let this_month = period_of(today);
        // The charges, in the order the jobs ended.
        let mut order: Vec<usize> = (0..self.data.ledger.len())
            .filter(|&i| {
                let e = &self.data.ledger[i];
                e.kind == LedgerKind::Consumed
                    && e.external_ref.is_some()
                    && zone.date(&e.created_at) >= first
            })
            .collect();
        order.sort_by_key(|&i| (self.data.ledger[i].created_at, self.data.ledger[i].id));
        // Jobs on hours the team bought are not the park's credit.
        let bought: std::collections::HashSet<i64> = self
            .data
            .grants
            .iter()
            .filter(|g| g.funding == domain::credits::GrantFunding::Own)
            .map(|g| g.id)
            .collect();
        for i in order {
            let e = &self.data.ledger[i];
            let r = &self.data.resources[(e.resource_id - 1) as usize];
            let ended_on = zone.date(&e.created_at);
            let price = domain::credits::prices::in_force(
                &self
                    .data
                    .prices
                    .iter()
                    .filter(|p| p.resource_id == r.id)
                    .cloned()
                    .collect::<Vec<_>>(),
                ended_on,
            )
            .map(|p| p.fen_per_gpu_hour);
            let minutes = -e.minutes;
            let id = next_id(&self.data.charges);
            self.data.charges.push(charge::Model {
                id,
                startup_id: e.startup_id,
                resource_id: r.id,
                provider: r.provider.clone(),
                job_ref: e.external_ref.clone().unwrap_or_default(),
                gpu_minutes: minutes,
                covered_minutes: if bought.contains(&e.grant_id) {
                    0
                } else {
                    minutes
                },
                fen_per_gpu_hour: price,
                amount_fen: price.map_or(0, |p| domain::credits::prices::amount(minutes, p)),
                domestic: r.domestic,
                ended_at: e.created_at,
                ended_on,
                period: period_of(ended_on),
            });
        }
        // Each full month's charges per startup and provider, in their order.
        let mut months: Vec<((String, i64, String), Vec<usize>)> = Vec::new();
        let mut at: HashMap<(String, i64, String), usize> = HashMap::new();
        for (i, c) in self.data.charges.iter().enumerate() {
            if c.period == this_month {
                continue;
            }
            let key = (c.period.clone(), c.startup_id, c.provider.clone());
            let slot = *at.entry(key.clone()).or_insert_with(|| {
                months.push((key, Vec::new()));
                months.len() - 1
            });
            months[slot].1.push(i);
        }
        months.sort_by(|a, b| a.0.cmp(&b.0));
        let mut paid_year: HashMap<(i64, i64, i32), i64> = HashMap::new();
        let mut paid_pool: HashMap<i64, i64> = HashMap::new();
        let last_month = period_of(month_start(today, 1));
        for ((period, startup_id, provider), lines) in months {
            let year: i32 = period[..4].parse().unwrap_or(0);
            let mut funds: Vec<Fund> = Vec::new();
            for e in self
                .data
                .programme_enrolments
                .iter()
                .filter(|e| e.startup_id == startup_id)
            {
                let p = &self.data.programmes[(e.programme_id - 1) as usize];
                let caps = [
                    p.cap_company_year_fen.map(|c| {
                        c - paid_year
                            .get(&(p.id, startup_id, year))
                            .copied()
                            .unwrap_or(0)
                    }),
                    p.cap_pool_fen
                        .map(|c| c - paid_pool.get(&p.id).copied().unwrap_or(0)),
                ];
                // A young firm's rate, as the app's preparation gives it.
                let rates = split::Rates {
                    domestic: p.rate_domestic_bp,
                    other: p.rate_other_bp,
                    young: p
                        .young_rate_bp
                        .zip(p.young_years.and_then(|y| u32::try_from(y).ok())),
                };
                let founded = self.data.startups[(startup_id - 1) as usize].founded_on;
                let month = NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").ok();
                let (domestic_rate, other_rate) = match (founded, month) {
                    (Some(f), Some(m)) => rates.for_startup(f, m),
                    _ => (rates.domestic, rates.other),
                };
                funds.push(Fund {
                    programme_id: p.id,
                    domestic_rate,
                    other_rate,
                    from: Ord::max(p.valid_from, zone.date(&e.decided_at)),
                    until: p.valid_until,
                    left: caps.into_iter().flatten().min().map(|l| l.max(0)),
                });
            }
            let input: Vec<Line> = lines
                .iter()
                .map(|&i| {
                    let c = &self.data.charges[i];
                    Line {
                        gpu_minutes: c.gpu_minutes,
                        covered_minutes: c.covered_minutes,
                        price_per_gpu_hour: c.fen_per_gpu_hour.unwrap_or(0),
                        domestic: c.domestic,
                        ended_on: c.ended_on,
                    }
                })
                .collect();
            let (parts, totals) = split::split(&input, &mut funds);
            let id = next_id(&self.data.statements);
            let next_month = month_start(
                NaiveDate::parse_from_str(&format!("{period}-01"), "%Y-%m-%d").unwrap_or(today),
                -1,
            );
            // Drafted on the next month's second day, issued a day or few later, paid within
            // a fortnight or so; nothing after now.
            let latest = self.t0 - chrono::Duration::hours(1);
            let created = Ord::min(super::world::midnight(next_month) + days(1), latest);
            let issued = Ord::min(
                created + chrono::Duration::hours(self.rng_hours(30, 120)),
                latest,
            );
            let paid = (period != last_month).then(|| {
                Ord::min(
                    issued + chrono::Duration::hours(self.rng_hours(72, 400)),
                    latest,
                )
            });
            let admin = self.admin();
            for ((f, amount), _) in funds.iter().zip(&totals.subsidies).zip(0..) {
                if *amount > 0 {
                    *paid_year
                        .entry((f.programme_id, startup_id, year))
                        .or_default() += amount;
                    *paid_pool.entry(f.programme_id).or_default() += amount;
                    self.data
                        .statement_subsidies
                        .push(statement_subsidy::Model {
                            statement_id: id,
                            programme_id: f.programme_id,
                            amount_fen: *amount,
                        });
                }
            }
            for (&i, part) in lines.iter().zip(&parts) {
                for (f, amount) in funds.iter().zip(&part.subsidies) {
                    if *amount > 0 {
                        self.data
                            .statement_line_subsidies
                            .push(statement_line_subsidy::Model {
                                statement_id: id,
                                charge_id: self.data.charges[i].id,
                                programme_id: f.programme_id,
                                amount_fen: *amount,
                            });
                    }
                }
                let line_id = next_id(&self.data.statement_lines);
                self.data.statement_lines.push(statement_line::Model {
                    id: line_id,
                    statement_id: id,
                    charge_id: self.data.charges[i].id,
                    park_fen: part.park,
                    subsidy_fen: part.subsidies.iter().sum(),
                    own_fen: part.own,
                });
            }
            let compact = period.replace('-', "");
            self.data.statements.push(statement::Model {
                id,
                startup_id,
                provider,
                period: period.clone(),
                revision: 0,
                corrects_id: None,
                status: if paid.is_some() {
                    StatementStatus::Paid
                } else {
                    StatementStatus::Issued
                },
                jobs: lines.len() as i64,
                gpu_minutes: lines
                    .iter()
                    .map(|&i| self.data.charges[i].gpu_minutes)
                    .sum(),
                amount_fen: totals.amount,
                park_fen: totals.park,
                subsidy_fen: totals.subsidies.iter().sum(),
                own_fen: totals.own,
                contract_no: format!("TC-{year}-{startup_id:05}"),
                contract_date: NaiveDate::from_ymd_opt(year, 1, 1),
                invoice_no: paid
                    .map(|_| format!("INV-{compact}-{id:06}"))
                    .unwrap_or_default(),
                payment_ref: paid
                    .map(|_| format!("PAY-{compact}-{startup_id:05}"))
                    .unwrap_or_default(),
                created_by: Some(admin),
                created_at: created,
                updated_at: paid.unwrap_or(issued),
                issued_by: Some(admin),
                issued_at: Some(issued),
                paid_by: paid.map(|_| admin),
                paid_at: paid,
                claimed_by: None,
                claimed_at: None,
                reimbursed_by: None,
                reimbursed_at: None,
            });
        }
    }

    /// A whole number of hours from `low` up to `high`.
    fn rng_hours(&mut self, low: i64, high: i64) -> i64 {
        use rand::Rng;
        self.rng.random_range(low..=high)
    }
}

#[cfg(test)]
mod tests {
    use super::month_start;
    use chrono::NaiveDate;

    #[test]
    fn months_are_counted_back_across_years() {
        let d = NaiveDate::from_ymd_opt(2027, 3, 15).unwrap();
        assert_eq!(
            month_start(d, 0),
            NaiveDate::from_ymd_opt(2027, 3, 1).unwrap()
        );
        assert_eq!(
            month_start(d, 3),
            NaiveDate::from_ymd_opt(2026, 12, 1).unwrap()
        );
        assert_eq!(
            month_start(d, 12),
            NaiveDate::from_ymd_opt(2026, 3, 1).unwrap()
        );
        assert_eq!(
            month_start(d, -1),
            NaiveDate::from_ymd_opt(2027, 4, 1).unwrap()
        );
        assert_eq!(
            month_start(d, -10),
            NaiveDate::from_ymd_opt(2028, 1, 1).unwrap()
        );
    }
}
