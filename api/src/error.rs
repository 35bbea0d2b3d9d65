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
    /// The database cannot answer now: no pooled connection in time, a statement timeout, or a
    /// connection dropped, reset or terminated. Nothing was written; the client retries.
    ServiceUnavailable,
    /// A write met a lock or a serialization failure (`database is locked`, a deadlock, PostgreSQL
    /// 40001). [`crate::db::write!`] runs the work again; past its tries the client sees
    /// SERVICE_UNAVAILABLE, like any other "retry shortly".
    Contended,
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
            Self::ServiceUnavailable | Self::Contended => ErrorCode::ServiceUnavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    fn client_message(&self) -> String {
        match self {
            Self::Unauthenticated => "authentication is required".into(),
            Self::Forbidden => "this record is outside what you may act on".into(),
            Self::NotFound { resource } => format!("{resource} not found"),
            Self::BadUserInput { field, message } | Self::Conflict { field, message } => {
                format!("{field}: {message}")
            }
            Self::RateLimited { retry_after_secs } => {
                format!("too many attempts; retry in {retry_after_secs} s")
            }
            Self::ServiceUnavailable | Self::Contended => "the service is busy; retry shortly".into(),
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
    /// Database failures are internal, except those that mean "retry": the database could not
    /// answer (SERVICE_UNAVAILABLE, so clients back off instead of reporting a fault), or a
    /// write met a lock or a serialization failure (contended, which a write runs again).
    fn from(err: sea_orm::DbErr) -> Self {
        match crate::db::fault::classify(&err) {
            crate::db::fault::Fault::Unavailable => {
                tracing::warn!(error = %err, "database unavailable");
                Self::ServiceUnavailable
            }
            crate::db::fault::Fault::Contended => {
                tracing::info!(error = %err, "write contended");
                Self::Contended
            }
            crate::db::fault::Fault::Other => Self::Internal(err.into()),
        }
    }
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
                AppError::Forbidden => ext.set("reason", FORBIDDEN_BY_SCOPE),
                AppError::ServiceUnavailable | AppError::Contended => {
                    ext.set("retryAfterSeconds", RETRY_UNAVAILABLE_AFTER_SECS);
                }
                _ => {}
            }
        })
    }
}

/// `extensions.reason` of a FORBIDDEN refusal before execution: the caller's role may not call
/// the field at all (HTTP 403, nothing ran).
pub const FORBIDDEN_BY_ROLE: &str = "ROLE";
/// `extensions.reason` of a FORBIDDEN refusal during execution: the role may call the field, but
/// not on this record (another branch's volunteer, another hospital's request, another
/// volunteer). HTTP 200, with the error at the field's path, like every execution error.
pub const FORBIDDEN_BY_SCOPE: &str = "SCOPE";

/// The retry hint of SERVICE_UNAVAILABLE: a dropped connection comes back, or a lock is freed,
/// within about a second (a PostgreSQL restart was measured at 0.1–0.3 s).
pub const RETRY_UNAVAILABLE_AFTER_SECS: u64 = 1;

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
