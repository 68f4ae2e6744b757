//! The error every server function returns: serialisable, translatable, never a raw database error.
use crate::i18n::Locale;
use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input: `key` names the translated message, `field` the form field at fault.
    #[error("invalid input: {key}")]
    Invalid { field: String, key: String },
    /// Several fields of one form are at fault; all are reported at once.
    #[error("invalid input in {} fields", errors.len())]
    InvalidFields { errors: Vec<FieldError> },
    /// The request conflicts with what exists (a duplicate account, a token already used).
    #[error("conflict: {key}")]
    Conflict { key: String },
    #[error("not signed in")]
    Unauthenticated,
    #[error("forbidden")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("too many attempts")]
    RateLimited,
    /// Something failed on our side; the details are in the server log, not in the response.
    #[error("internal error")]
    Internal,
    /// The request did not reach the server function, or its answer could not be read.
    #[error("transport: {0}")]
    Transport(String),
}

/// One field's fault: the field's name and the translated message's key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub key: String,
}

impl AppError {
    pub fn invalid(field: &str, key: &str) -> Self {
        AppError::Invalid {
            field: field.into(),
            key: key.into(),
        }
    }

    pub fn conflict(key: &str) -> Self {
        AppError::Conflict { key: key.into() }
    }

    /// The message key shown to the user.
    pub fn message_key(&self) -> &str {
        match self {
            AppError::Invalid { key, .. } | AppError::Conflict { key } => key,
            // The first fault names the whole (the API's `code`); pages list every one.
            AppError::InvalidFields { errors } => errors
                .first()
                .map(|e| e.key.as_str())
                .unwrap_or("error.bad_form"),
            AppError::Unauthenticated => "error.unauthenticated",
            AppError::Forbidden => "error.forbidden",
            AppError::NotFound => "error.not_found",
            AppError::RateLimited => "error.rate_limited",
            AppError::Internal => "error.internal",
            AppError::Transport(_) => "error.transport",
        }
    }

    pub fn message(&self, locale: Locale) -> String {
        locale.t(self.message_key())
    }

    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::Invalid { field, .. } => Some(field),
            AppError::InvalidFields { errors } => errors.first().map(|e| e.field.as_str()),
            _ => None,
        }
    }

    /// Every field at fault with its message key, in the form's order.
    pub fn field_errors(&self) -> Vec<(&str, &str)> {
        match self {
            AppError::Invalid { field, key } => vec![(field.as_str(), key.as_str())],
            AppError::InvalidFields { errors } => errors
                .iter()
                .map(|e| (e.field.as_str(), e.key.as_str()))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Whether the request's input was at fault (one field or several).
    pub fn is_invalid(&self) -> bool {
        matches!(
            self,
            AppError::Invalid { .. } | AppError::InvalidFields { .. }
        )
    }

    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::Invalid { .. } | AppError::InvalidFields { .. } => S::UNPROCESSABLE_ENTITY,
            AppError::Conflict { .. } => S::CONFLICT,
            AppError::Unauthenticated => S::UNAUTHORIZED,
            AppError::Forbidden => S::FORBIDDEN,
            AppError::NotFound => S::NOT_FOUND,
            AppError::RateLimited => S::TOO_MANY_REQUESTS,
            AppError::Internal | AppError::Transport(_) => S::INTERNAL_SERVER_ERROR,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Form fields that fail to parse are the user's input, not a transport failure.
            ServerFnErrorErr::Args(_) => AppError::invalid("form", "error.bad_form"),
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        tracing::error!(error = %err, "database error");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl<E: std::error::Error> From<sea_orm::TransactionError<E>> for AppError
where
    AppError: From<E>,
{
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => db.into(),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// Collects every field's fault of a form, so they are reported at once instead of one per
/// submission. Each check's value is kept when it passed; `finish` fails with all faults.
#[derive(Default)]
pub struct Checks {
    errors: Vec<FieldError>,
    other: Option<AppError>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of a passed check; a field fault is recorded (any other error is kept to be
    /// returned by `finish`, the first one winning).
    pub fn take<T>(&mut self, result: AppResult<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(AppError::Invalid { field, key }) => {
                self.fault(&field, &key);
                None
            }
            Err(AppError::InvalidFields { errors }) => {
                for e in errors {
                    self.fault(&e.field, &e.key);
                }
                None
            }
            Err(e) => {
                self.other.get_or_insert(e);
                None
            }
        }
    }

    /// Like `take`, with a placeholder for a failed check: only used when `finish` says every
    /// check passed, so the placeholder never leaves the function.
    pub fn value<T: Default>(&mut self, result: AppResult<T>) -> T {
        self.take(result).unwrap_or_default()
    }

    /// Records a fault of `field` (only its first one is kept: one message per field).
    pub fn fault(&mut self, field: &str, key: &str) {
        if !self.errors.iter().any(|e| e.field == field) {
            self.errors.push(FieldError {
                field: field.into(),
                key: key.into(),
            });
        }
    }

    /// Records a fault when `ok` is false.
    pub fn check(&mut self, ok: bool, field: &str, key: &str) {
        if !ok {
            self.fault(field, key);
        }
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty() && self.other.is_none()
    }

    /// Ok when every check passed; else the first non-field error, or all field faults.
    pub fn finish(self) -> AppResult<()> {
        if let Some(e) = self.other {
            return Err(e);
        }
        match self.errors.len() {
            0 => Ok(()),
            1 => {
                let FieldError { field, key } =
                    self.errors.into_iter().next().unwrap_or(FieldError {
                        field: "form".into(),
                        key: "error.bad_form".into(),
                    });
                Err(AppError::Invalid { field, key })
            }
            _ => Err(AppError::InvalidFields {
                errors: self.errors,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_report_every_field_once_in_order() {
        let mut c = Checks::new();
        assert_eq!(
            c.take::<i32>(Err(AppError::invalid("name", "error.name_required"))),
            None
        );
        assert_eq!(c.take(Ok(3)), Some(3));
        c.check(false, "email", "error.email_invalid");
        c.check(false, "name", "error.too_long");
        c.check(true, "team", "error.field_required");
        let err = c.finish().unwrap_err();
        assert_eq!(
            err.field_errors(),
            vec![
                ("name", "error.name_required"),
                ("email", "error.email_invalid")
            ]
        );
        assert_eq!(err.status(), http::StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(err.field(), Some("name"));
    }

    #[test]
    fn one_fault_is_a_plain_invalid_and_other_errors_win() {
        let mut c = Checks::new();
        c.check(false, "name", "error.name_required");
        assert_eq!(
            c.finish(),
            Err(AppError::invalid("name", "error.name_required"))
        );
        let mut c = Checks::new();
        c.check(false, "name", "error.name_required");
        c.take::<()>(Err(AppError::Forbidden));
        assert_eq!(c.finish(), Err(AppError::Forbidden));
        assert_eq!(Checks::new().finish(), Ok(()));
    }
}
