//! Conflicts of interest that can be found before anyone is assigned: a mentor's declared
//! affiliations (organisations and people, one per line) against a startup's name and founders.

/// Lower-cased, with whitespace and punctuation removed, so that "Acme AI, Ltd." and
/// "acme-ai ltd" compare equal; CJK characters are kept as they are.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Long enough to mean something: two CJK characters (a Chinese name) or four Latin ones,
/// so that "AI" or "Li" alone never blocks a mentor from a whole round.
fn significant(s: &str) -> bool {
    let cjk = s.chars().filter(|c| !c.is_ascii()).count();
    cjk >= 2 || s.chars().count() >= 4
}

/// Splits a free-text list on line breaks and the usual separators, in both languages.
pub fn entries(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', ',', ';', '，', '；', '、', '/'])
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

fn related(a: &str, b: &str) -> bool {
    let (short, long) = if a.chars().count() <= b.chars().count() {
        (a, b)
    } else {
        (b, a)
    };
    significant(short) && long.contains(short)
}

/// The first declared affiliation that matches the startup's name or one of its founders.
pub fn affiliation_conflict<'a>(
    affiliations: &'a str,
    startup_name: &str,
    founders: &str,
) -> Option<&'a str> {
    let name = normalise(startup_name);
    let people: Vec<String> = entries(founders).map(normalise).collect();
    entries(affiliations).find(|entry| {
        let e = normalise(entry);
        related(&e, &name) || people.iter().any(|p| related(&e, p))
    })
}

#[cfg(test)]
mod tests {
    use super::affiliation_conflict;

    #[test]
    fn matches_the_startup_name_either_way_round() {
        let founders = "Zhang Wei, Maria Rossi";
        assert_eq!(
            affiliation_conflict("Acme AI Ltd.\nTsinghua", "Acme AI", founders),
            Some("Acme AI Ltd.")
        );
        assert_eq!(
            affiliation_conflict("acme", "ACME Robotics", founders),
            Some("acme")
        );
    }

    #[test]
    fn matches_a_founder_in_either_language() {
        assert_eq!(
            affiliation_conflict(
                "Old friends: maria rossi",
                "Nimbus",
                "Zhang Wei; Maria Rossi"
            ),
            Some("Old friends: maria rossi")
        );
        assert_eq!(
            affiliation_conflict("北京大学、张伟", "云帆智能", "张伟，李娜"),
            Some("张伟")
        );
        assert_eq!(
            affiliation_conflict("云帆", "云帆智能科技有限公司", "李娜"),
            Some("云帆")
        );
    }

    #[test]
    fn short_or_unrelated_entries_do_not_block() {
        assert_eq!(affiliation_conflict("AI\nLi", "Acme AI", "Li Na"), None);
        assert_eq!(affiliation_conflict("", "Acme AI", "Li Na"), None);
        assert_eq!(
            affiliation_conflict("Baidu\nPeking University", "Acme AI", "Zhang Wei"),
            None
        );
    }
}
