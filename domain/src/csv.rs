//! CSV exports: RFC 4180 quoting, and cells that a spreadsheet would run as a formula are
//! neutralised (a leading `=`, `+`, `-` or `@` gets a `'`).

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
