//! The demo's compute vouchers: the city's voucher (Hangzhou's published rule: 30 % on
//! domestic compute, 20 % on other, at most ¥8 M a company a year, for companies registered
//! in Hangzhou) and the park's own subsidy (50 %, 60 % for startups under three years, ¥1 M a
//! company a year, from a ¥20 M pool); incubating startups enrolled in them by an admin.
use super::world::{days, next_id, World};
use domain::settlement::entity::{enrolment, programme};
use domain::startups::incubation::StartupStatus;
use wire::settlement::SponsorKind;

/// Hangzhou's administrative division codes start with 3301.
const HANGZHOU: &str = "3301";

impl World {
    pub fn funding(&mut self) {
        let year = self.t0.date_naive().format("%Y").to_string();
        let year: i32 = year.parse().unwrap_or(2026);
        let from = chrono::NaiveDate::from_ymd_opt(year - 1, 1, 1).unwrap_or_default();
        let until = chrono::NaiveDate::from_ymd_opt(year + 1, 12, 31).unwrap_or_default();
        let created = self.t0 - days(400);
        let programmes = [
            (
                "Hangzhou compute voucher",
                "杭州市算力券",
                SponsorKind::City,
                "Hangzhou Bureau of Economy and Information Technology · 杭州市经济和信息化局",
                (3_000, 2_000, None),
                (Some(800_000_000), None),
                Some(HANGZHOU),
            ),
            (
                "Turing Town compute subsidy",
                "图灵小镇算力补贴",
                SponsorKind::Park,
                "Turing Town AI Park · 图灵小镇人工智能产业园",
                (5_000, 5_000, Some((6_000, 3))),
                (Some(100_000_000), Some(2_000_000_000)),
                None,
            ),
        ];
        for (name_en, name_zh, kind, sponsor, (domestic, other, young), (year_cap, pool), region) in
            programmes
        {
            let id = next_id(&self.data.programmes);
            self.data.programmes.push(programme::Model {
                id,
                name_en: name_en.into(),
                name_zh: name_zh.into(),
                sponsor_kind: kind,
                sponsor: sponsor.into(),
                rate_domestic_bp: domestic,
                rate_other_bp: other,
                young_rate_bp: young.map(|(r, _)| r),
                young_years: young.map(|(_, y)| y),
                cap_company_year_fen: year_cap,
                cap_pool_fen: pool,
                cap_contract_fen: None,
                valid_from: from,
                valid_until: until,
                region_prefix: region.map(String::from),
                unaffiliated_provider: region.is_some(),
                created_by: Some(self.admins[0].id),
                created_at: created,
                updated_at: created,
            });
        }
        let incubating: Vec<(i64, Option<String>)> = self
            .data
            .startups
            .iter()
            .filter(|s| s.status == StartupStatus::Incubating)
            .map(|s| (s.id, s.credit_code.clone()))
            .collect();
        for (startup, code) in incubating {
            let in_hangzhou = code
                .as_deref()
                .is_some_and(|c| c[2..].starts_with(HANGZHOU));
            let park = self.chance(0.5);
            for (programme, reason) in [
                (1, in_hangzhou.then_some("Registered in Hangzhou; compute from the park's vendor · 注册于杭州，算力由园区服务商提供")),
                (2, park.then_some("Resident startup · 园区在孵企业")),
            ] {
                let Some(reason) = reason else { continue };
                let decided_at = self.between(created, self.t0 - days(30));
                let id = next_id(&self.data.programme_enrolments);
                let decided_by = Some(self.admin());
                self.data.programme_enrolments.push(enrolment::Model {
                    id,
                    programme_id: programme,
                    startup_id: startup,
                    cap_fen: None,
                    reason: reason.into(),
                    decided_by,
                    decided_at,
                    ended_at: None,
                });
            }
        }
    }
}
