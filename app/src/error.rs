//! The error every server function returns: serialisable, translatable, never a raw database error.
use crate::i18n::Locale;
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Bad input: `key` names the translated message, `field` the form field at fault.
    #[error("invalid input: {key}")]
    Invalid { field: String, key: String },
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
            _ => None,
        }
    }

    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode as S;
        match self {
            AppError::Invalid { .. } => S::UNPROCESSABLE_ENTITY,
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
