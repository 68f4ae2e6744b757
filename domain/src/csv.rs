//! CSV exports: RFC 4180 quoting, and cells that a spreadsheet would run as a formula are
//! neutralised (a leading `=`, `+`, `-` or `@` gets a `'`). Times are written in the reader's
//! zone (the park's unless they chose their own), which each time column's header names.
use crate::time::Zone;
use chrono::{DateTime, Utc};

/// The time columns of one export, in one zone.
#[derive(Clone, Copy, Debug)]
pub struct Times(pub Zone);

impl Times {
    /// A time column's header: its name and the zone, `created (Asia/Shanghai)`.
    pub fn header(self, name: &str) -> String {
        format!("{name} ({})", self.0.name())
    }

    /// An instant as that column's cell: the wall-clock time there, to the second.
    pub fn cell(self, t: DateTime<Utc>) -> String {
        self.0.format_seconds(&t)
    }

    /// An instant that may not have happened yet: an empty cell then.
    pub fn cell_opt(self, t: Option<DateTime<Utc>>) -> String {
        t.map(|t| self.cell(t)).unwrap_or_default()
    }
}

pub fn field(value: &str) -> String {
    let value = match value.chars().next() {
        // A number stays a number (a negative adjustment is not a formula).
        Some('-' | '+') if value.parse::<f64>().is_ok() => value.to_string(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_string(),
    };
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

/// One line of a CSV file, ended with CRLF.
pub fn line<S: AsRef<str>>(cells: impl IntoIterator<Item = S>) -> String {
    let mut out = cells
        .into_iter()
        .map(|c| field(c.as_ref()))
        .collect::<Vec<_>>()
        .join(",");
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_the_zone_their_header_names() {
        let t = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 6, 23, 30, 5).unwrap();
        let shanghai = Times(Zone::parse("Asia/Shanghai").unwrap());
        assert_eq!(shanghai.header("created"), "created (Asia/Shanghai)");
        assert_eq!(shanghai.cell(t), "2026-12-07 07:30:05");
        let berlin = Times(Zone::parse("Europe/Berlin").unwrap());
        assert_eq!(berlin.cell(t), "2026-12-07 00:30:05");
        assert_eq!(berlin.cell_opt(None), "");
    }

    #[test]
    fn quotes_what_needs_quoting_and_defuses_formulas() {
        assert_eq!(
            line(["a", "b c", "x,y", "say \"hi\""]),
            "a,b c,\"x,y\",\"say \"\"hi\"\"\"\r\n"
        );
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("-5"), "-5", "a negative number stays a number");
        assert_eq!(field("-2+3"), "'-2+3");
        assert_eq!(field("+1 555"), "'+1 555");
        assert_eq!(field("多行\n文本"), "\"多行\n文本\"");
    }
}
