//! The talent centre: cohorts with weekly sessions, enrolment up to the capacity and a waitlist
//! after it (a withdrawal promotes the first in line), attendance marked by an admin or by
//! self check-in, completion at the cohort's threshold with a certificate, and a roster version
//! that counts every change that took the cohort's roster lock.
use super::words::{self, Track};
use super::world::{days, midnight, next_id, World};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use domain::cohorts::entity::{attendance, certificate, cohort, enrolment, session};
use domain::cohorts::EnrolmentStatus;
use rand::Rng;
use std::collections::HashSet;

const CHECKIN_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CERTIFICATE_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// One person's place while the cohort is replayed.
struct Place {
    user: i64,
    queued: DateTime<Utc>,
    status: EnrolmentStatus,
    enrolled: Option<DateTime<Utc>>,
    withdrawn: Option<DateTime<Utc>>,
    completed: Option<DateTime<Utc>>,
    updated: DateTime<Utc>,
    /// How likely they are to come to a session.
    reliability: f64,
    attended: i32,
}

impl World {
    pub fn training(&mut self) {
        let today = self.t0.date_naive();
        let count = (self.startups_wanted / 40).clamp(6, 250);
        let mut starts: Vec<(NaiveDate, bool)> = Vec::new();
        for _ in 0..count - 3 {
            starts.push((today - days(self.rng.random_range(75..720)), false));
        }
        // One under way (the showcase founder is in it), one open for enrolment, one upcoming.
        starts.push((today - days(24), true));
        starts.push((today + days(16), false));
        starts.push((today + days(60), false));
        starts.sort();
        let mut pool: Vec<i64> = self
            .companies
            .iter()
            .flat_map(|c| c.members.iter().copied())
            .chain(self.trainees.iter().copied())
            .collect();
        pool.sort_unstable();
        let mut numbers = vec![0usize; words::TRACKS.len()];
        let mut codes = HashSet::new();
        for (starts_on, showcase) in starts {
            let t = self.rng.random_range(0..words::TRACKS.len());
            numbers[t] += 1;
            self.cohort(
                &words::TRACKS[t],
                numbers[t],
                starts_on,
                showcase,
                &pool,
                &mut codes,
            );
        }
    }

    fn code(&mut self, alphabet: &[u8], len: usize) -> String {
        (0..len)
            .map(|_| alphabet[self.rng.random_range(0..alphabet.len())] as char)
            .collect()
    }

    fn cohort(
        &mut self,
        track: &Track,
        number: usize,
        starts_on: NaiveDate,
        showcase: bool,
        pool: &[i64],
        codes: &mut HashSet<String>,
    ) {
        let t0 = self.t0;
        let (season_en, season_zh) = match starts_on.month() {
            3..=5 => ("spring", "春季"),
            6..=8 => ("summer", "夏季"),
            9..=11 => ("autumn", "秋季"),
            _ => ("winter", "冬季"),
        };
        let year = starts_on.year();
        let sessions = self.rng.random_range(6..=Ord::min(10, track.topics.len()));
        let capacity = *words::pick(&mut self.rng, &[20, 24, 30, 40, 60]);
        let completion = *words::pick(&mut self.rng, &[60, 70, 75, 80]);
        let enrol_opens = midnight(starts_on - days(40)) + Duration::hours(1);
        let enrol_closes = midnight(starts_on - days(2));
        let created = enrol_opens - days(7);
        let id = next_id(&self.data.cohorts);
        let admin = self.admins[2 % self.admins.len()].id;

        let mut session_rows = Vec::with_capacity(sessions);
        for (i, topic) in track.topics.iter().take(sessions).enumerate() {
            let starts_at = midnight(starts_on + days(7 * i as i64)) + Duration::hours(6);
            let ends_at = starts_at + Duration::hours(if self.chance(0.5) { 2 } else { 3 });
            let instructor = if self.chance(0.6) {
                let m = self.rng.random_range(0..self.mentors.len());
                self.mentors[m].name.clone()
            } else {
                (*words::pick(&mut self.rng, words::GUEST_INSTRUCTORS)).to_string()
            };
            let checkin_code = self.code(CHECKIN_ALPHABET, 6);
            let sid = next_id(&self.data.sessions) + i as i64;
            session_rows.push(session::Model {
                id: sid,
                cohort_id: id,
                starts_at,
                ends_at,
                topic: (*topic).into(),
                instructor,
                checkin_code,
                created_at: created + Duration::minutes(i as i64 + 1),
            });
        }
        let ends_on = session_rows
            .last()
            .map(|s| s.starts_at.date_naive())
            .unwrap_or(starts_on);
        // Adding each session took the roster lock.
        let mut roster_version = sessions as i64;

        let mut places: Vec<Place> = Vec::new();
        let horizon = Ord::min(enrol_closes, t0);
        if horizon > enrol_opens {
            let share = if enrol_closes > t0 {
                self.rng.random_range(0.3..1.1)
            } else {
                self.rng.random_range(0.6..1.4)
            };
            let wanted = (capacity as f64 * share) as usize;
            let mut chosen: HashSet<i64> = HashSet::new();
            let mut arrivals: Vec<(DateTime<Utc>, i64)> = Vec::new();
            if showcase {
                if let Some(&founder) = self.companies.first().and_then(|c| c.members.first()) {
                    chosen.insert(founder);
                    let at = self.between(enrol_opens, enrol_opens + days(2));
                    arrivals.push((at, founder));
                }
            }
            let mut attempts = 0;
            while arrivals.len() < wanted && attempts < wanted * 4 && !pool.is_empty() {
                attempts += 1;
                let user = pool[self.rng.random_range(0..pool.len())];
                let joined = self.user(user).created_at + Duration::hours(1);
                let from = Ord::max(enrol_opens, joined);
                if from >= horizon || !chosen.insert(user) {
                    continue;
                }
                let at = self.between(from, horizon);
                arrivals.push((at, user));
            }
            arrivals.sort();
            let first_session = session_rows
                .first()
                .map(|s| s.starts_at)
                .unwrap_or(enrol_closes);
            let mut steps: Vec<(DateTime<Utc>, u8, usize)> = Vec::new();
            for (i, (at, user)) in arrivals.iter().enumerate() {
                steps.push((*at, 0, i));
                let keeps = showcase && Some(user) == self.companies.first().map(|c| &c.members[0]);
                let until = Ord::min(first_session, t0);
                if !keeps && *at + Duration::hours(1) < until && self.chance(0.1) {
                    let leaves = self.between(*at + Duration::hours(1), until);
                    steps.push((leaves, 1, i));
                }
            }
            steps.sort();
            for (at, what, i) in steps {
                roster_version += 1;
                if what == 0 {
                    let taken = places
                        .iter()
                        .filter(|p| p.status == EnrolmentStatus::Enrolled)
                        .count();
                    let has_place = taken < capacity;
                    let reliability = self.rng.random_range(0.5..0.99);
                    places.push(Place {
                        user: arrivals[i].1,
                        queued: at,
                        status: if has_place {
                            EnrolmentStatus::Enrolled
                        } else {
                            EnrolmentStatus::Waitlisted
                        },
                        enrolled: has_place.then_some(at),
                        withdrawn: None,
                        completed: None,
                        updated: at,
                        reliability,
                        attended: 0,
                    });
                    continue;
                }
                // Places are pushed in arrival order: arrival i is place i.
                let held = places[i].status == EnrolmentStatus::Enrolled;
                places[i].status = EnrolmentStatus::Withdrawn;
                places[i].withdrawn = Some(at);
                places[i].updated = at;
                if held {
                    if let Some(next) = places
                        .iter_mut()
                        .find(|p| p.status == EnrolmentStatus::Waitlisted)
                    {
                        next.status = EnrolmentStatus::Enrolled;
                        next.enrolled = Some(at);
                        next.updated = at;
                    }
                }
            }
        }

        let first_enrolment = next_id(&self.data.enrolments);
        let total = sessions as i32;
        for s in &session_rows {
            if s.ends_at > t0 {
                continue;
            }
            let attendees: Vec<usize> = (0..places.len())
                .filter(|&i| {
                    matches!(
                        places[i].status,
                        EnrolmentStatus::Enrolled | EnrolmentStatus::Completed
                    )
                })
                .collect();
            if attendees.is_empty() {
                continue;
            }
            // Settled after each marking, as `attendance::settle` does.
            let mut marks: Vec<(usize, DateTime<Utc>)> = Vec::new();
            if self.chance(0.65) {
                let by = self.admin();
                let at = Ord::min(
                    self.between(
                        s.ends_at + Duration::minutes(5),
                        s.ends_at + Duration::hours(2),
                    ),
                    t0 - Duration::seconds(1),
                );
                roster_version += 1;
                for &i in &attendees {
                    let present = self.chance(places[i].reliability);
                    if present {
                        places[i].attended += 1;
                    }
                    self.data.attendance.push(attendance::Model {
                        session_id: s.id,
                        user_id: places[i].user,
                        present,
                        source: domain::cohorts::AttendanceSource::Roster,
                        marked_by: Some(by),
                        marked_at: at,
                    });
                    marks.push((i, at));
                }
            } else {
                for &i in &attendees {
                    if !self.chance(places[i].reliability) {
                        continue;
                    }
                    let at = self.between(
                        s.starts_at - Duration::minutes(10),
                        s.starts_at + Duration::minutes(40),
                    );
                    roster_version += 1;
                    places[i].attended += 1;
                    self.data.attendance.push(attendance::Model {
                        session_id: s.id,
                        user_id: places[i].user,
                        present: true,
                        source: domain::cohorts::AttendanceSource::Checkin,
                        marked_by: Some(places[i].user),
                        marked_at: at,
                    });
                    marks.push((i, at));
                }
            }
            for (i, at) in marks {
                let p = &mut places[i];
                if p.status != EnrolmentStatus::Enrolled || p.attended * 100 < completion * total {
                    continue;
                }
                p.status = EnrolmentStatus::Completed;
                p.completed = Some(at);
                p.updated = at;
                let code = loop {
                    let code = format!(
                        "HC-{}-{}-{}",
                        self.code(CERTIFICATE_ALPHABET, 4),
                        self.code(CERTIFICATE_ALPHABET, 4),
                        self.code(CERTIFICATE_ALPHABET, 4)
                    );
                    if codes.insert(code.clone()) {
                        break code;
                    }
                };
                let p = &places[i];
                let cid = next_id(&self.data.certificates);
                self.data.certificates.push(certificate::Model {
                    id: cid,
                    code,
                    enrolment_id: first_enrolment + i as i64,
                    cohort_id: id,
                    user_id: p.user,
                    holder_name: self.user(p.user).name.clone(),
                    sessions_attended: p.attended,
                    sessions_total: total,
                    issued_at: at,
                });
            }
        }

        for (i, p) in places.iter().enumerate() {
            self.data.enrolments.push(enrolment::Model {
                id: first_enrolment + i as i64,
                cohort_id: id,
                user_id: p.user,
                status: p.status,
                queued_at: p.queued,
                enrolled_at: p.enrolled,
                withdrawn_at: p.withdrawn,
                completed_at: p.completed,
                created_at: p.queued,
                updated_at: p.updated,
            });
        }
        self.data.sessions.extend(session_rows);
        self.data.cohorts.push(cohort::Model {
            id,
            title_en: format!("{} · cohort {number} ({season_en} {year})", track.title.0),
            title_zh: format!("{}第 {number} 期（{year} 年{season_zh}）", track.title.1),
            track: track.key,
            description_en: track.description.0.into(),
            description_zh: track.description.1.into(),
            capacity: capacity as i32,
            enrol_opens_at: enrol_opens,
            enrol_closes_at: enrol_closes,
            starts_on,
            ends_on,
            location: (*words::pick(&mut self.rng, words::LOCATIONS)).into(),
            completion_percent: completion,
            roster_version,
            created_by: Some(admin),
            created_at: created,
            updated_at: created,
        });
    }
}
