//! The user's language: English or Simplified Chinese, and how a request picks one.
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// Cookie that remembers the chosen language for visitors and signed-in users alike.
pub const LANG_COOKIE: &str = "hatchery_lang";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Locale {
    #[default]
    En,
    ZhCn,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::ZhCn];

    /// The BCP 47 tag, also the rust-i18n locale name.
    pub fn tag(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::ZhCn => "zh-CN",
        }
    }

    /// The language's name in itself, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::En => "English",
            Locale::ZhCn => "简体中文",
        }
    }

    /// Accepts our own tags and the common spellings browsers send.
    pub fn from_tag(tag: &str) -> Option<Locale> {
        let tag = tag.trim().to_ascii_lowercase();
        let primary = tag.split(['-', '_']).next().unwrap_or("");
        match primary {
            "en" => Some(Locale::En),
            // Traditional Chinese readers still get Simplified: it is the closer of the two we have.
            "zh" => Some(Locale::ZhCn),
            _ => None,
        }
    }

    /// Picks the best language from an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for part in header.split(',') {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            if let Some(locale) = Locale::from_tag(tag) {
                if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                    best = Some((q, locale));
                }
            }
        }
        best.map(|(_, l)| l)
    }

    /// Translates a message key into this language.
    pub fn t(self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.tag()).into_owned()
    }

    /// Translates a counted message by the language's CLDR plural rules: the key names a map
    /// of plural categories (`one`, `other`, …; Chinese has only `other`), and `%{n}` is the
    /// count. A category the language file lacks falls back to `other`.
    pub fn t_count(self, key: &str, n: i64, args: &[(&str, &str)]) -> String {
        let category = plural_category(self, n);
        let count = n.to_string();
        let mut all: Vec<(&str, &str)> = vec![("n", count.as_str())];
        all.extend_from_slice(args);
        let wanted = format!("{key}.{category}");
        let text = self.t(&wanted);
        if text == wanted || text.ends_with(&wanted) {
            self.t_with(&format!("{key}.other"), &all)
        } else {
            self.t_with(&wanted, &all)
        }
    }

    /// Translates a message key, filling `%{name}` placeholders.
    pub fn t_with(self, key: &str, args: &[(&str, &str)]) -> String {
        let text: Cow<str> = rust_i18n::t!(key, locale = self.tag());
        let patterns: Vec<&str> = args.iter().map(|(k, _)| *k).collect();
        let values: Vec<String> = args.iter().map(|(_, v)| v.to_string()).collect();
        rust_i18n::replace_patterns(&text, &patterns, &values)
    }
}

/// The CLDR plural category of `n` in this language (`one`, `other`, …).
pub fn plural_category(locale: Locale, n: i64) -> &'static str {
    use intl_pluralrules::{PluralCategory, PluralRuleType, PluralRules};
    use std::sync::OnceLock;
    static RULES: OnceLock<Vec<Option<PluralRules>>> = OnceLock::new();
    let rules = RULES.get_or_init(|| {
        Locale::ALL
            .iter()
            .map(|l| {
                let id: unic_langid::LanguageIdentifier = l.tag().parse().ok()?;
                PluralRules::create(id, PluralRuleType::CARDINAL).ok()
            })
            .collect()
    });
    let index = Locale::ALL.iter().position(|l| *l == locale).unwrap_or(0);
    match rules[index].as_ref().and_then(|r| r.select(n).ok()) {
        Some(PluralCategory::ZERO) => "zero",
        Some(PluralCategory::ONE) => "one",
        Some(PluralCategory::TWO) => "two",
        Some(PluralCategory::FEW) => "few",
        Some(PluralCategory::MANY) => "many",
        _ => "other",
    }
}

/// Resolves the language of the current request on the server: the cookie, else the browser's.
#[cfg(feature = "ssr")]
pub fn request_locale(parts: &http::request::Parts) -> Locale {
    headers_locale(&parts.headers)
}

/// The same, from a request's headers alone (middleware and error pages have no `Parts`).
#[cfg(feature = "ssr")]
pub fn headers_locale(headers: &http::HeaderMap) -> Locale {
    let from_cookie = cookie_in(headers, LANG_COOKIE).and_then(|v| Locale::from_tag(&v));
    from_cookie
        .or_else(|| {
            headers
                .get(http::header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::from_accept_language)
        })
        .unwrap_or_default()
}

/// The value of one cookie of the request.
#[cfg(feature = "ssr")]
pub fn cookie(parts: &http::request::Parts, name: &str) -> Option<String> {
    cookie_in(&parts.headers, name)
}

/// The value of one cookie among these headers.
#[cfg(feature = "ssr")]
pub fn cookie_in(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_respects_quality() {
        assert_eq!(
            Locale::from_accept_language("zh-CN,zh;q=0.9,en;q=0.8"),
            Some(Locale::ZhCn)
        );
        assert_eq!(
            Locale::from_accept_language("fr;q=1, en;q=0.5, zh;q=0.7"),
            Some(Locale::ZhCn)
        );
        assert_eq!(Locale::from_accept_language("en-GB"), Some(Locale::En));
        assert_eq!(Locale::from_accept_language("de, fr"), None);
        assert_eq!(Locale::from_accept_language("zh;q=0"), None);
    }

    #[test]
    fn translations_exist_in_both_languages() {
        assert_eq!(Locale::En.t("nav.home"), "Home");
        assert_eq!(Locale::ZhCn.t("nav.home"), "首页");
        assert_eq!(
            Locale::ZhCn.t_with("mail.verify.greeting", &[("name", "李雷")]),
            "李雷，您好："
        );
    }

    /// Every key must exist in both files, so no page ever falls back to a raw key or to English.
    #[test]
    fn locale_files_have_the_same_keys() {
        fn keys(v: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
            if let Some(map) = v.as_object() {
                for (k, v) in map {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    keys(v, &p, out);
                }
            } else {
                out.push(prefix.to_string());
            }
        }
        // A counted message's plural forms are the language's own (English one/other, Chinese
        // other only): compared by the message, with its `other` form required everywhere.
        const CATEGORIES: [&str; 5] = [".zero", ".one", ".two", ".few", ".many"];
        let load = |f: &str| {
            let text =
                std::fs::read_to_string(format!("{}/locales/{f}", env!("CARGO_MANIFEST_DIR")))
                    .unwrap();
            let v: serde_json::Value = serde_yaml::from_str(&text).unwrap();
            let mut out = vec![];
            keys(&v, "", &mut out);
            out.retain(|k| !CATEGORIES.iter().any(|c| k.ends_with(c)));
            out.sort();
            out
        };
        assert_eq!(load("en.yml"), load("zh-CN.yml"));
    }

    #[test]
    fn counted_messages_follow_each_languages_plural_rules() {
        assert_eq!(plural_category(Locale::En, 1), "one");
        assert_eq!(plural_category(Locale::En, 0), "other");
        assert_eq!(plural_category(Locale::En, 2), "other");
        assert_eq!(plural_category(Locale::ZhCn, 1), "other");
        assert_eq!(
            Locale::En.t_count("review.per_application", 1, &[]),
            "1 mentor should review each application."
        );
        assert_eq!(
            Locale::En.t_count("review.per_application", 3, &[]),
            "3 mentors should review each application."
        );
        assert_eq!(
            Locale::ZhCn.t_count("review.per_application", 1, &[]),
            "每份申请应由 1 位导师评审。"
        );
    }
}
