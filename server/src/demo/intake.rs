//! Intake: rounds with their rubric, startups and their teams, applications in every state,
//! the mentors' reviews with rubric scores, and the decisions.
use super::words::{self, lang};
use super::world::{days, midnight, next_id, Company, Round, World, DOMAIN};
use chrono::{DateTime, Datelike, Duration, Utc};
use domain::auth::Role;
use domain::intake::entity::{application, criterion, event, round};
use domain::intake::ApplicationStatus;
use domain::review::entity::{assignment, score};
use domain::review::AssignmentStatus;
use domain::startups::entity::{member, startup};
use domain::startups::{CreditCode, StartupProfile};
use rand::Rng;
use wire::review::Recommendation;

/// The park ran a few batches before the demo's history begins.
const FIRST_BATCH: usize = 4;
const ROUNDS: usize = 6;

/// Where an application ends up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Draft,
    Submitted,
    InReview,
    /// Withdrawn by the team; `true` when mentors were already reviewing it.
    Withdrawn(bool),
    Decided(ApplicationStatus),
}

impl World {
    /// Five closed rounds, half a year apart, and the one open now.
    pub fn rounds(&mut self) {
        let t0 = self.t0;
        let admin = self.admins[0].id;
        for i in 0..ROUNDS {
            let back = (ROUNDS - 1 - i) as i64;
            let opens = t0 - days(20 + 182 * back) + Duration::hours(1);
            let closes = midnight(opens.date_naive() + days(45)) + Duration::minutes(959);
            let deadline = closes + days(21);
            let id = next_id(&self.data.rounds);
            let batch = FIRST_BATCH + i;
            let year = opens.year();
            let per_application = if back <= 1 { 3 } else { 2 };
            self.data.rounds.push(round::Model {
                id,
                title_en: format!("Batch {batch} intake · {year}"),
                title_zh: format!("第 {batch} 期入孵招募 · {year}"),
                description_en: words::ROUND_DESCRIPTIONS.0.into(),
                description_zh: words::ROUND_DESCRIPTIONS.1.into(),
                opens_at: opens,
                closes_at: closes,
                review_deadline: Some(deadline),
                mentors_per_application: per_application as i32,
                blind_review: back == 2,
                created_by: Some(admin),
                created_at: opens - days(14),
                updated_at: opens - days(14),
            });
            let mut criteria = Vec::new();
            for (position, (name, guidance, weight)) in words::RUBRIC.iter().enumerate() {
                let cid = next_id(&self.data.criteria);
                self.data.criteria.push(criterion::Model {
                    id: cid,
                    round_id: id,
                    position: position as i32,
                    name_en: name.0.into(),
                    name_zh: name.1.into(),
                    guidance_en: guidance.0.into(),
                    guidance_zh: guidance.1.into(),
                    weight: *weight,
                });
                criteria.push((cid, *weight));
            }
            self.rounds.push(Round {
                id,
                opens,
                closes,
                deadline,
                open: back == 0,
                per_application,
                criteria,
            });
        }
    }

    /// The startups, each with its team and its applications, round after round, until one
    /// is accepted or the team gives up.
    pub fn startups(&mut self) {
        for c in 0..self.startups_wanted {
            self.company(c);
        }
    }

    /// A valid 统一社会信用代码 no other startup has: a Beijing, Shanghai, Hangzhou or
    /// Shenzhen enterprise's prefix, a random body, and the check character the domain accepts.
    fn credit_code(&mut self) -> String {
        const CHARSET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
        const REGIONS: &[&str] = &["110108", "110105", "310115", "330106", "440305", "320506"];
        loop {
            let mut body = format!("91{}", words::pick(&mut self.rng, REGIONS));
            for _ in 0..9 {
                body.push(CHARSET[self.rng.random_range(0..CHARSET.len())] as char);
            }
            let code = CHARSET
                .iter()
                .map(|c| format!("{body}{}", *c as char))
                .find(|code| CreditCode::parse(code).is_ok());
            if let Some(code) = code {
                if self.credit_codes.insert(code.clone()) {
                    return code;
                }
            }
        }
    }

    fn company(&mut self, c: usize) {
        let sector = words::sector(&mut self.rng);
        let (name, slug) = self.unique_name(sector);
        let open = ROUNDS - 1;
        let first = match c {
            // The showcase founder's startup: admitted a year ago, incubating, with credit.
            0 => open - 2,
            // The showcase applicant: in review in the open round.
            1 => open,
            // An alumnus: admitted in the oldest round, graduated since.
            2 => 0,
            _ => {
                const WEIGHTS: [u32; ROUNDS] = [9, 11, 15, 18, 22, 25];
                let mut n = self.rng.random_range(0..WEIGHTS.iter().sum::<u32>());
                let mut i = 0;
                while n >= WEIGHTS[i] {
                    n -= WEIGHTS[i];
                    i += 1;
                }
                i
            }
        };
        let opens = self.rounds[first].opens;
        let created = self.between(opens - days(30), opens - days(2));

        let founder = words::person(&mut self.rng);
        let zh = founder.zh;
        let email = match c {
            0 => Some(format!("founder@{DOMAIN}")),
            1 => Some(format!("applicant@{DOMAIN}")),
            _ => None,
        };
        if c == 0 {
            self.showcase.founder = format!("founder@{DOMAIN}");
        } else if c == 1 {
            self.showcase.applicant = format!("applicant@{DOMAIN}");
        }
        let founder_at = created - Duration::minutes(self.rng.random_range(30..4000));
        let founder_id = self.add_user(&founder, email.as_deref(), &[Role::Applicant], founder_at);
        let id = next_id(&self.data.startups);
        let mut members = vec![founder_id];
        let mut lines = vec![format!(
            "{} — {}",
            founder.name,
            lang(words::FOUNDER_ROLES[0], zh)
        )];
        self.data.members.push(member::Model {
            startup_id: id,
            user_id: founder_id,
            role: domain::startups::MemberRole::Founder,
            joined_at: created,
        });
        let cofounders = match self.rng.random_range(0..100) {
            0..30 => 0,
            30..75 => 1,
            _ => 2,
        };
        for k in 0..cofounders {
            let p = words::person(&mut self.rng);
            let joined = self.between(created + days(1), created + days(20));
            let uid = self.add_user(&p, None, &[Role::Applicant], joined - Duration::minutes(12));
            self.data.members.push(member::Model {
                startup_id: id,
                user_id: uid,
                role: domain::startups::MemberRole::Cofounder,
                joined_at: joined,
            });
            lines.push(format!(
                "{} — {}",
                p.name,
                lang(words::FOUNDER_ROLES[k + 1], zh)
            ));
            members.push(uid);
        }
        let founders_text = lines.join("\n");
        let stage = {
            use wire::startups::Stage;
            const STAGES: [(Stage, u32); 5] = [
                (Stage::Idea, 12),
                (Stage::Prototype, 30),
                (Stage::Seed, 35),
                (Stage::SeriesA, 17),
                (Stage::Growth, 6),
            ];
            let mut n = self.rng.random_range(0..100);
            STAGES
                .iter()
                .find(|(_, w)| {
                    let hit = n < *w;
                    n = n.saturating_sub(*w);
                    hit
                })
                .map(|(s, _)| *s)
                .unwrap_or(Stage::Seed)
        };
        let credit_code = self.chance(0.7).then(|| self.credit_code());
        let website = self
            .chance(0.6)
            .then(|| format!("https://www.{slug}.example"));
        let team_size = members.len() as i32 + self.rng.random_range(0..=14);
        self.data.startups.push(startup::Model {
            id,
            name: name.clone(),
            credit_code,
            sector: sector.key,
            stage,
            team_size,
            website,
            founders: founders_text.clone(),
            status: domain::startups::incubation::StartupStatus::Applicant,
            created_by: founder_id,
            created_at: created,
            updated_at: created,
            residency_from: None,
            residency_until: None,
            ended_at: None,
            end_reason: None,
            // Registered up to six years before it first applied, spread by its id so the
            // world's other draws stay as they were.
            founded_on: Some(created.date_naive() - days((id * 7919) % 2190)),
        });
        self.companies.push(Company {
            id,
            name,
            founders_text,
            zh,
            sector,
            members,
            admitted: None,
            residency: None,
        });

        let ci = self.companies.len() - 1;
        let mut ri = first;
        loop {
            let outcome = self.outcome(c, ri);
            self.apply(ci, ri, outcome, c == 1);
            if matches!(outcome, Outcome::Decided(ApplicationStatus::Accepted)) || ri == open {
                break;
            }
            // Some teams that were turned down try again in a later round.
            if !self.chance(0.35) {
                break;
            }
            ri = self.rng.random_range(ri + 1..=open);
        }
    }

    fn outcome(&mut self, c: usize, ri: usize) -> Outcome {
        if c == 0 || c == 2 {
            return Outcome::Decided(ApplicationStatus::Accepted);
        }
        if c == 1 {
            return Outcome::InReview;
        }
        let n = self.rng.random_range(0..100);
        if self.rounds[ri].open {
            match n {
                0..28 => Outcome::Draft,
                28..50 => Outcome::Submitted,
                50..95 => Outcome::InReview,
                _ => Outcome::Withdrawn(false),
            }
        } else {
            match n {
                0..36 => Outcome::Decided(ApplicationStatus::Accepted),
                36..72 => Outcome::Decided(ApplicationStatus::Rejected),
                72..84 => Outcome::Decided(ApplicationStatus::Waitlisted),
                84..89 => Outcome::Withdrawn(false),
                89..93 => Outcome::Withdrawn(true),
                _ => Outcome::Draft,
            }
        }
    }

    /// One application of a startup to a round, with its timeline and reviews.
    fn apply(&mut self, ci: usize, ri: usize, outcome: Outcome, showcase: bool) {
        let t0 = self.t0;
        let (opens, closes, deadline, open) = {
            let r = &self.rounds[ri];
            (r.opens, r.closes, r.deadline, r.open)
        };
        let (startup_id, zh, founder, sector) = {
            let c = &self.companies[ci];
            (c.id, c.zh, c.members[0], c.sector)
        };
        let startup_created = self.data.startups[(startup_id - 1) as usize].created_at;
        let latest_draft = if open {
            opens + days(10)
        } else {
            closes - days(10)
        };
        let created = self.between(
            Ord::max(opens, startup_created + Duration::hours(1)),
            latest_draft,
        );

        let pain = lang(*words::pick(&mut self.rng, sector.pains), zh);
        let focus = lang(*words::pick(&mut self.rng, sector.focuses), zh);
        let models = lang(*words::pick(&mut self.rng, sector.models), zh);
        let traction = lang(*words::pick(&mut self.rng, words::TRACTION), zh);
        let team = lang(*words::pick(&mut self.rng, words::TEAM_TEXT), zh);
        let (problem, solution) = if zh {
            (format!("目前，{pain}。"), format!("我们打造{focus}。"))
        } else {
            (format!("Today, {pain}."), format!("We build {focus}."))
        };
        let gpu_model = *words::pick(&mut self.rng, words::GPU_MODELS);
        let gpu_hours = self.rng.random_range(5..=200) * 100;
        let id = next_id(&self.data.applications);
        let mut a = application::Model {
            id,
            round_id: self.rounds[ri].id,
            startup_id,
            status: ApplicationStatus::Draft,
            problem,
            solution,
            models_data: models.into(),
            gpu_model: gpu_model.into(),
            gpu_hours,
            traction: traction.into(),
            team: team.into(),
            profile_snapshot: None,
            decision_message: None,
            submitted_at: None,
            decided_at: None,
            created_at: created,
            updated_at: created,
        };
        self.event(id, ApplicationStatus::Draft, founder, created);

        if outcome == Outcome::Draft {
            // Abandoned half-way: some answers still empty.
            if self.chance(0.5) {
                a.traction.clear();
                a.team.clear();
            }
            if self.chance(0.5) {
                a.gpu_hours = 0;
            }
            let edit_until = Ord::min(if open { t0 } else { closes }, created + days(5));
            a.updated_at = self.between(created, edit_until);
            self.data.applications.push(a);
            return;
        }

        let submit_until = if open {
            Ord::min(closes, t0 - days(4))
        } else {
            closes - Duration::hours(1)
        };
        let submitted = self.between(created + days(1), Ord::min(created + days(6), submit_until));
        a.status = ApplicationStatus::Submitted;
        a.submitted_at = Some(submitted);
        a.updated_at = submitted;
        let s = &self.data.startups[(startup_id - 1) as usize];
        let snapshot = StartupProfile {
            id: s.id,
            name: s.name.clone(),
            credit_code: s.credit_code.clone(),
            sector: s.sector.to_string(),
            stage: s.stage.to_string(),
            team_size: s.team_size,
            website: s.website.clone(),
            founders: s.founders.clone(),
            status: domain::startups::incubation::StartupStatus::Applicant,
            founded_on: s.founded_on,
        };
        a.profile_snapshot = serde_json::to_string(&snapshot).ok();
        self.event(id, ApplicationStatus::Submitted, founder, submitted);

        match outcome {
            Outcome::Submitted => {
                self.data.applications.push(a);
                return;
            }
            Outcome::Withdrawn(false) => {
                let until = if open {
                    t0 - Duration::hours(1)
                } else {
                    closes
                };
                let at = self.between(submitted + Duration::hours(2), until);
                a.status = ApplicationStatus::Withdrawn;
                a.updated_at = at;
                self.event(id, ApplicationStatus::Withdrawn, founder, at);
                self.data.applications.push(a);
                return;
            }
            _ => {}
        }

        let assigned = if open {
            self.between(submitted + days(1), submitted + days(3))
        } else {
            self.between(closes + days(1), closes + days(3))
        };
        let admin = self.admin();
        a.status = ApplicationStatus::InReview;
        a.updated_at = assigned;
        self.event(id, ApplicationStatus::InReview, admin, assigned);
        let quality = match outcome {
            Outcome::Decided(ApplicationStatus::Accepted) => self.rng.random_range(3.5..4.7),
            Outcome::Decided(ApplicationStatus::Waitlisted) => self.rng.random_range(2.9..3.7),
            Outcome::Decided(_) => self.rng.random_range(1.6..3.1),
            _ => self.rng.random_range(2.0..4.5),
        };
        match outcome {
            Outcome::InReview => {
                self.review(
                    ci,
                    id,
                    ri,
                    assigned,
                    t0 - Duration::hours(1),
                    0.5,
                    quality,
                    showcase,
                );
            }
            Outcome::Withdrawn(_) => {
                let at = self.between(assigned + days(1), deadline);
                self.review(ci, id, ri, assigned, at, 0.4, quality, false);
                a.status = ApplicationStatus::Withdrawn;
                a.updated_at = at;
                self.event(id, ApplicationStatus::Withdrawn, founder, at);
            }
            Outcome::Decided(decision) => {
                self.review(
                    ci,
                    id,
                    ri,
                    assigned,
                    deadline - Duration::hours(1),
                    1.0,
                    quality,
                    false,
                );
                let at = self.between(deadline + days(2), deadline + days(7));
                let admin = self.admin();
                let message = words::DECISION_MESSAGES
                    .iter()
                    .find(|(s, _)| *s == decision.as_str())
                    .map(|(_, m)| lang(*m, zh).to_string());
                a.status = decision;
                a.decided_at = Some(at);
                a.updated_at = at;
                a.decision_message = if decision == ApplicationStatus::Accepted || self.chance(0.7)
                {
                    message
                } else {
                    None
                };
                self.event(id, decision, admin, at);
                if decision == ApplicationStatus::Accepted {
                    self.companies[ci].admitted = Some(at);
                }
            }
            Outcome::Draft | Outcome::Submitted => {}
        }
        self.data.applications.push(a);
    }

    fn event(&mut self, application_id: i64, to: ApplicationStatus, actor: i64, at: DateTime<Utc>) {
        let id = next_id(&self.data.events);
        self.data.events.push(event::Model {
            id,
            application_id,
            status: to,
            actor_user_id: Some(actor),
            created_at: at,
        });
    }

    /// A mentor for an application: not yet on it, without a declared conflict with the
    /// startup, and among the least loaded of a few drawn at random.
    fn reviewer(&mut self, name: &str, founders: &str, taken: &[usize]) -> Option<usize> {
        let mut best: Option<usize> = None;
        for _ in 0..8 {
            let m = self.rng.random_range(0..self.mentors.len());
            let mentor = &self.mentors[m];
            if taken.contains(&m)
                || domain::review::conflicts::affiliation_conflict(
                    &mentor.affiliations,
                    name,
                    founders,
                )
                .is_some()
            {
                continue;
            }
            if best.is_none_or(|b| mentor.reviews < self.mentors[b].reviews) {
                best = Some(m);
            }
        }
        best
    }

    /// Assigns the round's number of mentors from `assigned`; each submits a review before
    /// `until` with probability `p_submit`, a few recuse themselves and are replaced.
    #[allow(clippy::too_many_arguments)]
    fn review(
        &mut self,
        ci: usize,
        application_id: i64,
        ri: usize,
        assigned: DateTime<Utc>,
        until: DateTime<Utc>,
        p_submit: f64,
        quality: f64,
        showcase: bool,
    ) {
        let name = self.companies[ci].name.clone();
        let founders = self.companies[ci].founders_text.clone();
        let per = self.rounds[ri].per_application;
        let criteria = self.rounds[ri].criteria.clone();
        let admin = self.admin();
        let mut taken: Vec<usize> = Vec::new();
        // The showcase mentor has this one waiting in their queue.
        let mut queue: Vec<(usize, DateTime<Utc>, bool)> = Vec::new();
        if showcase {
            taken.push(0);
            queue.push((0, assigned, true));
        }
        while taken.len() < per {
            let Some(m) = self.reviewer(&name, &founders, &taken) else {
                break;
            };
            taken.push(m);
            queue.push((m, assigned, false));
        }
        let mut i = 0;
        while i < queue.len() {
            let (m, at, pending) = queue[i];
            i += 1;
            let created = at + Duration::minutes(i as i64);
            let id = next_id(&self.data.assignments);
            self.mentors[m].reviews += 1;
            let mentor_id = self.mentors[m].id;
            let zh = self.mentors[m].zh;
            let mut x = assignment::Model {
                id,
                application_id,
                mentor_id,
                status: AssignmentStatus::Assigned,
                recommendation: None,
                feedback_applicant: String::new(),
                notes_committee: String::new(),
                conflict_reason: None,
                assigned_by: Some(admin),
                submitted_at: None,
                created_at: created,
                updated_at: created,
            };
            if !pending && self.chance(0.04) {
                let recused = self.between(created + Duration::hours(1), created + days(2));
                x.status = AssignmentStatus::Recused;
                x.conflict_reason =
                    Some(lang(*words::pick(&mut self.rng, words::CONFLICTS), zh).into());
                x.updated_at = recused;
                if let Some(r) = self.reviewer(&name, &founders, &taken) {
                    taken.push(r);
                    queue.push((r, recused + Duration::minutes(10), false));
                }
            } else if !pending && created + Duration::hours(2) < until && self.chance(p_submit) {
                let at = self.between(created + Duration::hours(2), until);
                let bias = self.mentors[m].bias;
                let mut total = 0.0;
                let mut weights = 0.0;
                for (criterion_id, weight) in &criteria {
                    let raw = quality + bias + self.rng.random_range(-0.9..0.9);
                    let value = raw.round().clamp(1.0, 5.0) as i32;
                    total += f64::from(value * weight);
                    weights += f64::from(*weight);
                    self.data.scores.push(score::Model {
                        assignment_id: id,
                        criterion_id: *criterion_id,
                        score: value,
                    });
                }
                let mean = total / weights;
                let recommendation = if mean >= 3.6 {
                    Recommendation::Accept
                } else if mean >= 2.9 {
                    Recommendation::Waitlist
                } else {
                    Recommendation::Reject
                };
                let feedback: Vec<_> = words::FEEDBACK
                    .iter()
                    .filter(|(_, r)| *r == recommendation.as_str())
                    .collect();
                let (text, _) = **words::pick(&mut self.rng, &feedback);
                x.status = AssignmentStatus::Submitted;
                x.recommendation = Some(recommendation);
                x.feedback_applicant = lang(text, zh).into();
                x.notes_committee =
                    lang(*words::pick(&mut self.rng, words::COMMITTEE_NOTES), zh).into();
                x.submitted_at = Some(at);
                x.updated_at = at;
            }
            self.data.assignments.push(x);
        }
    }
}
