//! The admitted firms' figures for the sponsors' report: a headcount every half year of their
//! stay, growing from the team they applied with, and for some a financing round or two. Drawn
//! from a generator of their own, so adding them left the rest of the world as it was.
use super::world::{days, midnight, World};
use chrono::Duration;
use domain::startups::entity::{financing, headcount};
use domain::startups::figures::FinancingRound;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const INVESTORS: &[&str] = &[
    "Turing Town Angel Fund",
    "Zhangjiang Science Ventures",
    "Pearl River Capital",
    "West Lake Partners",
    "Hillhouse Seed",
    "Yangtze Industrial Fund",
];

impl World {
    pub fn company_figures(&mut self) {
        let mut rng = StdRng::seed_from_u64(0x05ee_df16);
        for ci in 0..self.companies.len() {
            let Some(admitted) = self.companies[ci].admitted else {
                continue;
            };
            let id = self.companies[ci].id;
            let s = &self.data.startups[(id - 1) as usize];
            let until = s.ended_at.unwrap_or(self.t0 - days(1));
            let recorder = self.companies[ci].members[0];
            let mut employees = s.team_size;
            let mut day = admitted.date_naive() + days(rng.random_range(20..60));
            while midnight(day) < until {
                employees = (employees + rng.random_range(-1..=4)).max(1);
                self.data.headcounts.push(headcount::Model {
                    id: self.data.headcounts.len() as i64 + 1,
                    startup_id: id,
                    as_of: day,
                    employees,
                    recorded_by: Some(recorder),
                    recorded_at: midnight(day) + Duration::hours(rng.random_range(1..10)),
                });
                day += days(182);
            }
            let rounds = match rng.random_range(0..100) {
                0..55 => 0,
                55..88 => 1,
                _ => 2,
            };
            let first = rng.random_range(0..3);
            for kind in first..first + rounds {
                let closed = admitted
                    + Duration::seconds(
                        rng.random_range(0..(until - admitted).num_seconds().max(1)),
                    );
                let round = [
                    FinancingRound::Angel,
                    FinancingRound::Seed,
                    FinancingRound::PreA,
                    FinancingRound::SeriesA,
                    FinancingRound::SeriesB,
                ][Ord::min(kind, 4)];
                // ¥1–30 M for the early rounds, more for the later ones, in whole ten thousands.
                let scale = if round >= FinancingRound::SeriesA {
                    10
                } else {
                    1
                };
                let wan = rng.random_range(100..3000) * scale;
                self.data.financings.push(financing::Model {
                    id: self.data.financings.len() as i64 + 1,
                    startup_id: id,
                    closed_on: closed.date_naive(),
                    round,
                    amount_fen: wan * 1_000_000,
                    investors: INVESTORS[rng.random_range(0..INVESTORS.len())].to_string(),
                    recorded_by: Some(recorder),
                    recorded_at: closed + days(3),
                });
            }
        }
    }
}
