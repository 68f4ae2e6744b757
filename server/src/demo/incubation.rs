//! Incubation of the admitted startups: residency, assigned mentors, milestones signed off as
//! done or missed (or overdue), the notes timeline, and the end of the stay.
use super::words::{self, lang};
use super::world::{days, midnight, next_id, Residency, World};
use chrono::{DateTime, Duration, Utc};
use domain::startups::entity::{mentor, milestone, note};
use domain::startups::incubation::REMINDER_DAYS;
use domain::startups::incubation::{MilestoneStatus, StartupStatus};
use rand::Rng;

impl World {
    pub fn incubation(&mut self) {
        for ci in 0..self.companies.len() {
            if let Some(decided) = self.companies[ci].admitted {
                self.residency(ci, decided);
            }
        }
    }

    /// A mentor of few startups, without a declared conflict with this one.
    fn incubation_mentor(&mut self, ci: usize, taken: &[i64]) -> Option<i64> {
        let mut best: Option<usize> = None;
        for _ in 0..8 {
            let m = self.rng.random_range(0..self.mentors.len());
            let mentor = &self.mentors[m];
            let c = &self.companies[ci];
            if taken.contains(&mentor.id)
                || domain::review::conflicts::affiliation_conflict(
                    &mentor.affiliations,
                    &c.name,
                    &c.founders_text,
                )
                .is_some()
            {
                continue;
            }
            if best.is_none_or(|b| mentor.startups < self.mentors[b].startups) {
                best = Some(m);
            }
        }
        let m = best?;
        self.mentors[m].startups += 1;
        Some(self.mentors[m].id)
    }

    /// Someone who may sign a milestone off: one of its mentors mostly, an admin otherwise.
    fn signer(&mut self, mentors: &[i64]) -> (i64, bool) {
        if !mentors.is_empty() && self.chance(0.7) {
            let id = *words::pick(&mut self.rng, mentors);
            (id, self.user_zh(id))
        } else {
            let i = self.rng.random_range(0..self.admins.len());
            (self.admins[i].id, self.admins[i].zh)
        }
    }

    fn residency(&mut self, ci: usize, decided: DateTime<Utc>) {
        let t0 = self.t0;
        let startup_id = self.companies[ci].id;
        let zh = self.companies[ci].zh;
        let from = (decided + days(14)).date_naive();
        // The showcase founder's startup is mid-way through a long residency; the third
        // startup is an alumnus of the oldest round.
        let long = ci == 0 || (ci != 2 && self.chance(0.4));
        let until = from + days(if long { 548 } else { 365 });
        let start = midnight(from);

        let mut end: Option<(DateTime<Utc>, StartupStatus)> = None;
        if ci > 2 && self.chance(0.07) {
            let at = self.between(start + days(60), midnight(until));
            if at < t0 - days(1) {
                end = Some((at, StartupStatus::Exited));
            }
        }
        if end.is_none() && midnight(until) < t0 {
            let at = midnight(until) + Duration::minutes(self.rng.random_range(60..600));
            let how = if ci == 2 || self.chance(0.88) {
                StartupStatus::Graduated
            } else {
                StartupStatus::Exited
            };
            end = Some((at, how));
        }
        let reason = end.map(|(_, how)| {
            let texts = if how == StartupStatus::Graduated {
                words::GRADUATED
            } else {
                words::EXITED
            };
            lang(*words::pick(&mut self.rng, texts), zh).to_string()
        });
        {
            let s = &mut self.data.startups[(startup_id - 1) as usize];
            s.status = end.map(|(_, how)| how).unwrap_or(StartupStatus::Incubating);
            s.residency_from = Some(from);
            s.residency_until = Some(until);
            s.ended_at = end.map(|(at, _)| at);
            s.end_reason = reason;
            s.updated_at = end.map(|(at, _)| at).unwrap_or(decided + days(1));
        }
        for uid in self.companies[ci].members.clone() {
            self.give_cluster_login(uid);
        }

        let mut mentors: Vec<i64> = Vec::new();
        if ci == 0 {
            mentors.push(self.mentors[0].id);
            self.mentors[0].startups += 1;
        }
        let wanted = if self.chance(0.6) { 1 } else { 2 };
        while mentors.len() < wanted {
            match self.incubation_mentor(ci, &mentors) {
                Some(m) => mentors.push(m),
                None => break,
            }
        }
        for &m in &mentors {
            self.data.startup_mentors.push(mentor::Model {
                startup_id,
                user_id: m,
                assigned_at: start + Duration::hours(2),
            });
        }

        // Milestones are agreed at the kick-off, a few days before the residency starts.
        let kickoff = start - days(3) + Duration::hours(2);
        let until_active = end.map(|(at, _)| at).unwrap_or(t0);
        let count = self.rng.random_range(3..=6usize);
        let span = (until - from).num_days();
        let mut titles: Vec<usize> = Vec::new();
        while titles.len() < count {
            let i = self.rng.random_range(0..words::MILESTONES.len());
            if !titles.contains(&i) {
                titles.push(i);
            }
        }
        let mut ids = Vec::new();
        for (j, &t) in titles.iter().enumerate() {
            let (title, description) = words::MILESTONES[t];
            let offset = span * (j as i64 + 1) / count as i64 - self.rng.random_range(0..20);
            let due = from + days(Ord::max(offset, 20));
            let due_at = midnight(due);
            let mut status = MilestoneStatus::Planned;
            let mut signed: Option<(DateTime<Utc>, i64, bool)> = None;
            if due_at < until_active {
                let at = self.between(due_at - days(5), due_at + days(6));
                let latest = Ord::min(until_active, t0) - Duration::hours(1);
                let ended = end.is_some();
                if at > kickoff + days(1) && at < latest && (ended || self.chance(0.85)) {
                    let (who, who_zh) = self.signer(&mentors);
                    status = if self.chance(0.75) {
                        MilestoneStatus::Done
                    } else {
                        MilestoneStatus::Missed
                    };
                    signed = Some((at, who, who_zh));
                }
            }
            let (evidence, notes) = match (status, signed) {
                (MilestoneStatus::Done, Some((_, _, z))) => (
                    Some(lang(*words::pick(&mut self.rng, words::EVIDENCE), z).to_string()),
                    None,
                ),
                (MilestoneStatus::Missed, Some((_, _, z))) => (
                    None,
                    Some(lang(*words::pick(&mut self.rng, words::MISSED), z).to_string()),
                ),
                _ => (None, None),
            };
            // The reminder pass marks a milestone when it comes within REMINDER_DAYS of its
            // due date while still planned, whether or not the startup is still here.
            let remind = Ord::max(due_at - days(REMINDER_DAYS), kickoff);
            let reminded =
                (remind <= t0 && signed.is_none_or(|(at, _, _)| at > remind)).then_some(remind);
            let id = next_id(&self.data.milestones);
            self.data.milestones.push(milestone::Model {
                id,
                startup_id,
                title: lang(title, zh).into(),
                description: lang(description, zh).into(),
                due_on: due,
                status,
                evidence,
                notes,
                signed_off_by: signed.map(|(_, who, _)| who),
                signed_off_at: signed.map(|(at, _, _)| at),
                reminded_at: reminded,
                created_at: kickoff,
                updated_at: signed.map(|(at, _, _)| at).unwrap_or(kickoff),
            });
            ids.push(id);
        }
        ids.sort_by_key(|id| self.data.milestones[(id - 1) as usize].due_on);

        let notes = self.rng.random_range(0..=3);
        for _ in 0..notes {
            let (author, author_zh) = self.signer(&mentors);
            let at = self.between(start + days(7), until_active - Duration::hours(1));
            let id = next_id(&self.data.notes);
            self.data.notes.push(note::Model {
                id,
                startup_id,
                author_id: author,
                body: lang(*words::pick(&mut self.rng, words::STARTUP_NOTES), author_zh).into(),
                created_at: at,
            });
        }

        self.companies[ci].residency = Some(Residency {
            from,
            until,
            end,
            milestones: ids,
        });
    }
}
