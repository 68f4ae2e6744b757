//! Time zones: the park's, each person's own, and the one place where an instant becomes the
//! text people read, and a time they type (a `datetime-local` field) becomes an instant.
//!
//! Instants are stored and compared in UTC; only showing and reading them uses a zone. Both
//! the server and the browser hold the zone database, so a hydrated page renders exactly the
//! text the server sent.
use crate::error::{AppError, AppResult};
use chrono::offset::LocalResult;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::{OffsetName, Tz};

/// The format of `datetime-local` inputs.
pub const INPUT_FORMAT: &str = "%Y-%m-%dT%H:%M";

/// A time zone of the IANA database, e.g. `Asia/Shanghai`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Zone(Tz);

/// The park's zone when none is configured.
impl Default for Zone {
    fn default() -> Self {
        Zone(chrono_tz::Asia::Shanghai)
    }
}

impl Zone {
    /// A zone by its IANA name (`Europe/Berlin`); `None` for anything else.
    pub fn parse(name: &str) -> Option<Zone> {
        name.trim().parse::<Tz>().ok().map(Zone)
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// The zones a person may choose from: the IANA names of places (`Area/City`), sorted.
    pub fn choices() -> Vec<&'static str> {
        let mut names: Vec<&'static str> = chrono_tz::TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|n| {
                n.contains('/')
                    && !n.starts_with("Etc/")
                    && !n.starts_with("SystemV/")
                    && !n.starts_with("US/")
                    && n.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            })
            .collect();
        names.push("UTC");
        names.sort_unstable();
        names
    }

    fn local(self, t: &DateTime<Utc>) -> DateTime<Tz> {
        t.with_timezone(&self.0)
    }

    /// What the zone is called at `t`: its abbreviation (`CST`, `CET`, `CEST`), or the offset
    /// from UTC where the database has no letters for it (`UTC+05:30`).
    pub fn abbreviation(self, t: &DateTime<Utc>) -> String {
        let local = self.local(t);
        match local.offset().abbreviation() {
            Some(a) if a.starts_with(|c: char| c.is_ascii_alphabetic()) => a.to_string(),
            _ => {
                let secs = local.offset().fix().local_minus_utc();
                let (sign, secs) = if secs < 0 { ('-', -secs) } else { ('+', secs) };
                format!("UTC{sign}{:02}:{:02}", secs / 3600, secs % 3600 / 60)
            }
        }
    }

    /// An instant for people: minute precision, the zone named (`2026-12-06 18:30 CST`).
    pub fn format(self, t: &DateTime<Utc>) -> String {
        format!(
            "{} {}",
            self.local(t).format("%Y-%m-%d %H:%M"),
            self.abbreviation(t)
        )
    }

    /// An instant with the zone's full name too, for emails read away from the page
    /// (`2026-12-06 18:30 CST (Asia/Shanghai)`).
    pub fn format_named(self, t: &DateTime<Utc>) -> String {
        format!("{} ({})", self.format(t), self.name())
    }

    /// The wall-clock time of day only (`18:30`), e.g. the end of a session shown after its start.
    pub fn format_clock(self, t: &DateTime<Utc>) -> String {
        self.local(t).format("%H:%M").to_string()
    }

    /// An instant to the second without the zone, for CSV files whose header names it.
    pub fn format_seconds(self, t: &DateTime<Utc>) -> String {
        self.local(t).format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// The local calendar day an instant falls on.
    pub fn date(self, t: &DateTime<Utc>) -> NaiveDate {
        self.local(t).date_naive()
    }

    /// Today, in this zone.
    pub fn today(self) -> NaiveDate {
        self.date(&Utc::now())
    }

    /// The local `(year, month)` an instant falls in.
    pub fn month(self, t: &DateTime<Utc>) -> (i32, u32) {
        let d = self.date(t);
        (d.year(), d.month())
    }

    /// The first instant of a local day (midnight, or the first minute after it that exists
    /// where the clocks skip midnight).
    pub fn start_of_day(self, d: NaiveDate) -> DateTime<Utc> {
        let midnight = d.and_hms_opt(0, 0, 0).unwrap_or_default();
        for minutes in (0..=24 * 60).step_by(15) {
            let t = midnight + Duration::minutes(minutes);
            match self.0.from_local_datetime(&t) {
                LocalResult::Single(x) => return x.with_timezone(&Utc),
                LocalResult::Ambiguous(x, _) => return x.with_timezone(&Utc),
                LocalResult::None => continue,
            }
        }
        midnight.and_utc()
    }

    /// The value of a `datetime-local` field showing `t` in this zone.
    pub fn input_value(self, t: &DateTime<Utc>) -> String {
        self.local(t).format(INPUT_FORMAT).to_string()
    }

    /// Reads a wall-clock time typed in this zone (`2027-03-28T02:30`).
    ///
    /// A time the clocks skip (spring forward) is refused with a field error; a time they pass
    /// twice (fall back) is read as the first of the two, the earlier instant, and is shown back
    /// with the zone's abbreviation for that instant (`CEST`), so the reading is visible.
    pub fn parse_input(self, value: &str, field: &str) -> AppResult<DateTime<Utc>> {
        let wall = NaiveDateTime::parse_from_str(value.trim(), INPUT_FORMAT)
            .map_err(|_| AppError::invalid(field, "error.datetime_invalid"))?;
        self.from_wall(wall)
            .ok_or_else(|| AppError::invalid(field, "error.datetime_skipped"))
    }

    /// A date (`2027-01-31`) as the start of that day, or a `datetime-local` value, in this zone.
    pub fn parse_date_or_input(self, value: &str, field: &str) -> AppResult<DateTime<Utc>> {
        match NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d") {
            Ok(d) => Ok(self.start_of_day(d)),
            Err(_) => self.parse_input(value, field),
        }
    }

    /// The instant of a wall-clock time here: the earlier one when it happens twice, none when
    /// it never happens.
    pub fn from_wall(self, wall: NaiveDateTime) -> Option<DateTime<Utc>> {
        match self.0.from_local_datetime(&wall) {
            LocalResult::Single(x) => Some(x.with_timezone(&Utc)),
            LocalResult::Ambiguous(earlier, _) => Some(earlier.with_timezone(&Utc)),
            LocalResult::None => None,
        }
    }
}

impl std::fmt::Display for Zone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A day as a date field sends it (`2027-01-31`); a clear message naming `field` otherwise.
pub fn parse_day(value: &str, field: &str) -> AppResult<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, "error.date_invalid"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn zone(name: &str) -> Zone {
        Zone::parse(name).unwrap()
    }

    #[test]
    fn shanghai_is_eight_hours_ahead_all_year() {
        let sh = zone("Asia/Shanghai");
        assert_eq!(
            sh.format(&utc("2026-12-06T10:30:00Z")),
            "2026-12-06 18:30 CST"
        );
        assert_eq!(
            sh.format(&utc("2027-07-01T15:30:00Z")),
            "2027-07-01 23:30 CST"
        );
        assert_eq!(
            sh.parse_input("2026-12-06T18:30", "closes_at").unwrap(),
            utc("2026-12-06T10:30:00Z")
        );
        assert_eq!(
            sh.input_value(&utc("2026-12-06T10:30:00Z")),
            "2026-12-06T18:30"
        );
        // 23:30 local on the last day of a month is still that month, though UTC is earlier.
        let late = utc("2027-01-31T15:30:00Z");
        assert_eq!(
            sh.date(&late),
            NaiveDate::from_ymd_opt(2027, 1, 31).unwrap()
        );
        let early = utc("2027-01-31T16:30:00Z");
        assert_eq!(sh.month(&early), (2027, 2));
        assert_eq!(
            sh.start_of_day(NaiveDate::from_ymd_opt(2027, 2, 1).unwrap()),
            utc("2027-01-31T16:00:00Z")
        );
    }

    #[test]
    fn berlin_spring_forward_has_a_gap() {
        let berlin = zone("Europe/Berlin");
        // 2027-03-28: 02:00 CET becomes 03:00 CEST.
        assert_eq!(
            berlin.parse_input("2027-03-28T02:30", "closes_at"),
            Err(AppError::invalid("closes_at", "error.datetime_skipped"))
        );
        assert_eq!(
            berlin.parse_input("2027-03-28T01:59", "closes_at").unwrap(),
            utc("2027-03-28T00:59:00Z")
        );
        assert_eq!(
            berlin.parse_input("2027-03-28T03:00", "closes_at").unwrap(),
            utc("2027-03-28T01:00:00Z")
        );
        assert_eq!(
            berlin.format(&utc("2027-03-28T00:59:00Z")),
            "2027-03-28 01:59 CET"
        );
        assert_eq!(
            berlin.format(&utc("2027-03-28T01:00:00Z")),
            "2027-03-28 03:00 CEST"
        );
        // A day with 23 hours.
        let day = NaiveDate::from_ymd_opt(2027, 3, 28).unwrap();
        assert_eq!(
            berlin.start_of_day(day.succ_opt().unwrap()) - berlin.start_of_day(day),
            Duration::hours(23)
        );
    }

    #[test]
    fn berlin_fall_back_reads_the_earlier_of_two() {
        let berlin = zone("Europe/Berlin");
        // 2027-10-31: 03:00 CEST becomes 02:00 CET, so 02:30 happens twice.
        let t = berlin.parse_input("2027-10-31T02:30", "closes_at").unwrap();
        assert_eq!(t, utc("2027-10-31T00:30:00Z"));
        assert_eq!(berlin.format(&t), "2027-10-31 02:30 CEST");
        assert_eq!(
            berlin.format(&(t + Duration::hours(1))),
            "2027-10-31 02:30 CET"
        );
        assert_eq!(
            berlin.input_value(&(t + Duration::hours(1))),
            "2027-10-31T02:30"
        );
    }

    #[test]
    fn zones_without_letters_show_their_offset() {
        assert_eq!(
            zone("Asia/Kolkata").abbreviation(&utc("2027-01-01T00:00:00Z")),
            "IST"
        );
        assert_eq!(
            zone("Asia/Dubai").abbreviation(&utc("2027-01-01T00:00:00Z")),
            "UTC+04:00"
        );
        assert_eq!(Zone::parse("Mars/Olympus"), None);
        assert_eq!(Zone::parse(" Europe/Berlin "), Some(zone("Europe/Berlin")));
        assert!(Zone::choices().contains(&"Asia/Shanghai"));
        assert!(Zone::choices().contains(&"UTC"));
    }

    #[test]
    fn dates_read_as_the_start_of_the_local_day() {
        assert_eq!(
            zone("Asia/Shanghai")
                .parse_date_or_input("2027-01-31", "valid_until")
                .unwrap(),
            utc("2027-01-30T16:00:00Z")
        );
    }
}
