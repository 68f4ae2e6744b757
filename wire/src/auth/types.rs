//! Parsed account inputs: a value of these types is valid by construction.
use crate::error::AppError;

/// A normalised (trimmed, lower-cased) email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress(String);

impl EmailAddress {
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let email = input.trim().to_lowercase();
        if email.is_empty() {
            return Err(AppError::invalid("email", "error.email_required"));
        }
        let valid = email.len() <= 254
            && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            && match email.split_once('@') {
                Some((local, domain)) => {
                    !local.is_empty()
                        && local.len() <= 64
                        && !domain.contains('@')
                        && domain.contains('.')
                        && !domain.starts_with('.')
                        && !domain.ends_with('.')
                        && !domain.contains("..")
                        && domain
                            .chars()
                            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
                }
                None => false,
            };
        if valid {
            Ok(EmailAddress(email))
        } else {
            Err(AppError::invalid("email", "error.email_invalid"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that meets the policy: 10 to 128 characters.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(input: &str) -> Result<Self, AppError> {
        let n = input.chars().count();
        if n == 0 {
            Err(AppError::invalid("password", "error.password_required"))
        } else if n < Self::MIN_CHARS {
            Err(AppError::invalid("password", "error.password_short"))
        } else if n > Self::MAX_CHARS {
            Err(AppError::invalid("password", "error.password_long"))
        } else {
            Ok(Password(input.to_string()))
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(..)")
    }
}

/// A person's display name: 1 to 100 characters after trimming.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(input: &str) -> Result<Self, AppError> {
        let name = input.trim();
        if name.is_empty() {
            Err(AppError::invalid("name", "error.name_required"))
        } else if name.chars().count() > 100 || name.chars().any(|c| c.is_control()) {
            Err(AppError::invalid("name", "error.name_invalid"))
        } else {
            Ok(PersonName(name.to_string()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            EmailAddress::parse("  Wei.Zhang@Example.CN ")
                .unwrap()
                .as_str(),
            "wei.zhang@example.cn"
        );
        assert!(EmailAddress::parse("张伟@例子.中国").is_ok());
        for bad in [
            "", "plain", "a@b", "a@@b.c", "a b@c.d", "@c.d", "a@.c", "a@c.", "a@c..d",
        ] {
            assert!(
                EmailAddress::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
        assert_eq!(
            EmailAddress::parse("").unwrap_err().message_key(),
            "error.email_required"
        );
    }

    #[test]
    fn password_policy_counts_characters_not_bytes() {
        assert_eq!(
            Password::parse("short").unwrap_err().message_key(),
            "error.password_short"
        );
        assert!(Password::parse("密码密码密码密码密码").is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("correct horse").unwrap()),
            "Password(..)"
        );
    }

    #[test]
    fn names_are_trimmed() {
        assert_eq!(PersonName::parse("  李雷 ").unwrap().as_str(), "李雷");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse(&"a".repeat(101)).is_err());
    }
}

/// An invitation as its accept page shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Invitation {
    pub email: String,
    pub role: super::Role,
    pub has_account: bool,
    /// Set when the invitation is onto a startup's team.
    pub startup_name: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub roles: Vec<super::Role>,
    pub verified: bool,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The admin's user list: sortable columns (the first is the default order).
pub const USER_COLUMNS: &[crate::tables::Column] = &[
    crate::tables::col("joined", "users.joined", false),
    crate::tables::col("name", "field.name", false),
    crate::tables::col("email", "field.email", false),
];
