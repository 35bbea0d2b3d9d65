//! One error type for the whole service.
//!
//! Every failure a client can see is an [`AppError`] with a stable `extensions.code`. Messages
//! are written for the client and never carry a personal value: a refused phone number is named
//! by its field, not repeated. Causes of [`AppError::Internal`] are logged inside the request's
//! span (so with its request id) and replaced by a generic message.
//!
//! `AppError` deliberately does not implement `Display`: async-graphql converts any `Display`
//! error into a client message, and that blanket conversion would bypass the masking below.

use std::fmt;

use async_graphql::ErrorExtensions;

/// The stable codes clients may branch on. Names follow the Apollo conventions mobile
/// developers already know; the transport codes cover requests refused before execution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    NotFound,
    BadUserInput,
    Conflict,
    RateLimited,
    ServiceUnavailable,
    Internal,
    /// The HTTP request itself is malformed: body, media type, batching, parameters.
    BadRequest,
    /// The document is not GraphQL.
    GraphqlParseFailed,
    /// The document is GraphQL but invalid for this schema or over a limit (depth, cost, aliases, size).
    GraphqlValidationFailed,
    /// A mutation was sent with GET.
    MethodNotAllowed,
}

impl ErrorCode {
    pub const ALL: [Self; 12] = [
        Self::Unauthenticated,
        Self::Forbidden,
        Self::NotFound,
        Self::BadUserInput,
        Self::Conflict,
        Self::RateLimited,
        Self::ServiceUnavailable,
        Self::Internal,
        Self::BadRequest,
        Self::GraphqlParseFailed,
        Self::GraphqlValidationFailed,
        Self::MethodNotAllowed,
    ];

    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::NotFound => "NOT_FOUND",
            Self::BadUserInput => "BAD_USER_INPUT",
            Self::Conflict => "CONFLICT",
            Self::RateLimited => "RATE_LIMITED",
            Self::ServiceUnavailable => "SERVICE_UNAVAILABLE",
            Self::Internal => "INTERNAL",
            Self::BadRequest => "BAD_REQUEST",
            Self::GraphqlParseFailed => "GRAPHQL_PARSE_FAILED",
            Self::GraphqlValidationFailed => "GRAPHQL_VALIDATION_FAILED",
            Self::MethodNotAllowed => "METHOD_NOT_ALLOWED",
        }
    }

    #[must_use]
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|known| known.as_str() == code)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure of a use case, as the client will see it.
pub enum AppError {
    Unauthenticated,
    Forbidden,
    NotFound {
        resource: &'static str,
    },
    /// `field` is the GraphQL name of the offending input, e.g. `nationalId` or `input.phone`.
    BadUserInput {
        field: String,
        message: String,
    },
    Conflict {
        field: String,
        message: String,
    },
    RateLimited {
        retry_after_secs: u64,
    },
    ServiceUnavailable,
    /// Anything unexpected. The cause is logged, never returned.
    Internal(anyhow::Error),
}

impl AppError {
    /// A refusal of one input field. The message must not repeat the value.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput { field: field.into(), message: message.into() }
    }

    /// Adapts a domain refusal (which knows the rule, not the field) for `map_err`.
    pub fn field<E: fmt::Display>(field: &'static str) -> impl FnOnce(E) -> Self {
        move |reason| Self::invalid(field, reason.to_string())
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }

    /// A failed write, read by the constraint it broke: a unique index means the value is
    /// taken (`taken`), a foreign key that the referenced row does not exist (`missing`). Any
    /// other failure, or one without a meaning given, stays a database error.
    #[must_use]
    pub fn on_constraint(err: sea_orm::DbErr, taken: Option<Self>, missing: Option<Self>) -> Self {
        let meaning = match err.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => taken,
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_)) => missing,
            _ => None,
        };
        meaning.unwrap_or_else(|| err.into())
    }

    /// The refusal of a branch code that names no branch.
    #[must_use]
    pub fn no_such_branch() -> Self {
        Self::invalid("branchCode", "no such branch")
    }

    #[must_use]
    pub const fn code(&self) -> ErrorCode {
        match self {
            Self::Unauthenticated => ErrorCode::Unauthenticated,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::NotFound { .. } => ErrorCode::NotFound,
            Self::BadUserInput { .. } => ErrorCode::BadUserInput,
            Self::Conflict { .. } => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::ServiceUnavailable => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    fn client_message(&self) -> String {
        match self {
            Self::Unauthenticated => "authentication is required".into(),
            Self::Forbidden => "you are not allowed to do this".into(),
            Self::NotFound { resource } => format!("{resource} not found"),
            Self::BadUserInput { field, message } | Self::Conflict { field, message } => {
                format!("{field}: {message}")
            }
            Self::RateLimited { retry_after_secs } => {
                format!("too many attempts; retry in {retry_after_secs} s")
            }
            Self::ServiceUnavailable => "the service is busy; retry shortly".into(),
            Self::Internal(_) => "internal error".into(),
        }
    }
}

/// Shows the code and the client message: safe to log, since neither carries personal data.
impl fmt::Debug for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Internal(cause) => write!(f, "INTERNAL: {cause:#}"),
            other => write!(f, "{}: {}", other.code(), other.client_message()),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    /// Database failures are internal, except those that mean "busy, retry": no pooled
    /// connection within the acquire timeout, or a statement stopped by `statement_timeout`.
    /// Those are SERVICE_UNAVAILABLE, so clients back off instead of reporting a fault.
    fn from(err: sea_orm::DbErr) -> Self {
        if matches!(err, sea_orm::DbErr::ConnectionAcquire(_)) || is_statement_timeout(&err) {
            tracing::warn!(error = %err, "database busy");
            return Self::ServiceUnavailable;
        }
        Self::Internal(err.into())
    }
}

/// PostgreSQL's `query_canceled` (57014), which `statement_timeout` raises.
fn is_statement_timeout(err: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    let (DbErr::Query(RuntimeErr::SqlxError(cause)) | DbErr::Exec(RuntimeErr::SqlxError(cause))) = err else {
        return false;
    };
    cause.as_database_error().and_then(sea_orm::sqlx::error::DatabaseError::code).is_some_and(|code| code == "57014")
}

impl From<AppError> for async_graphql::Error {
    fn from(err: AppError) -> Self {
        if let AppError::Internal(cause) = &err {
            tracing::error!(error = ?cause, "internal error");
        }
        async_graphql::Error::new(err.client_message()).extend_with(|_, ext| {
            ext.set("code", err.code().as_str());
            match &err {
                AppError::BadUserInput { field, .. } | AppError::Conflict { field, .. } => {
                    ext.set("field", field.as_str());
                }
                AppError::RateLimited { retry_after_secs } => {
                    ext.set("retryAfterSeconds", *retry_after_secs);
                }
                _ => {}
            }
        })
    }
}

/// The result type of every service call.
pub type AppResult<T> = Result<T, AppError>;

/// A GraphQL error with a code, for refusals raised outside resolvers (limits, transport).
#[must_use]
pub fn server_error(code: ErrorCode, message: impl Into<String>) -> async_graphql::ServerError {
    let mut err = async_graphql::ServerError::new(message, None);
    err.extensions.get_or_insert_with(Default::default).set("code", code.as_str());
    err
}

/// The code an error carries, if it carries a known one.
#[must_use]
pub fn code_of(err: &async_graphql::ServerError) -> Option<ErrorCode> {
    match err.extensions.as_ref()?.get("code")? {
        async_graphql::Value::String(code) => ErrorCode::parse(code),
        _ => None,
    }
}

/// Gives an error `fallback` as its code unless it already has one, and returns its code.
/// async-graphql's own errors (parse, validation, input coercion) arrive without a code.
pub fn ensure_code(err: &mut async_graphql::ServerError, fallback: ErrorCode) -> ErrorCode {
    if let Some(code) = code_of(err) {
        return code;
    }
    err.extensions.get_or_insert_with(Default::default).set("code", fallback.as_str());
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips_through_its_wire_name() {
        for code in ErrorCode::ALL {
            assert_eq!(ErrorCode::parse(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::parse("TEAPOT"), None);
    }

    #[test]
    fn internal_errors_reach_the_client_as_a_generic_message() {
        let err: async_graphql::Error = AppError::internal(anyhow::anyhow!("SELECT secret FROM volunteer")).into();
        assert_eq!(err.message, "internal error");
        let code = err.extensions.as_ref().and_then(|ext| ext.get("code")).cloned();
        assert_eq!(code, Some(async_graphql::Value::from("INTERNAL")));
    }

    #[test]
    fn bad_input_names_the_field() {
        let err: async_graphql::Error = AppError::invalid("nationalId", "checksum does not match").into();
        let field = err.extensions.as_ref().and_then(|ext| ext.get("field")).cloned();
        assert_eq!(field, Some(async_graphql::Value::from("nationalId")));
        assert_eq!(err.message, "nationalId: checksum does not match");
    }
}
