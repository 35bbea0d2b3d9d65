//! Observation of every GraphQL request: a span named after the operation, metrics by
//! operation and by error code, and a stable `extensions.code` on every error.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextRequest, NextValidation,
};
use async_graphql::{Response, ServerError, ValidationResult};
use tracing::Instrument;

use crate::error::{ErrorCode, ensure_code};
use crate::metrics::Metrics;

#[derive(Debug)]
pub struct Observe {
    metrics: Arc<Metrics>,
}

impl Observe {
    #[must_use]
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl ExtensionFactory for Observe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ObserveRequest { metrics: Arc::clone(&self.metrics), operation: Mutex::new(None) })
    }
}

/// One per request: remembers the operation name between the execute and request hooks.
struct ObserveRequest {
    metrics: Arc<Metrics>,
    operation: Mutex<Option<String>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for ObserveRequest {
    async fn request(&self, ctx: &ExtensionContext<'_>, next: NextRequest<'_>) -> Response {
        let started = Instant::now();
        let mut response = next.run(ctx).await;
        for err in &mut response.errors {
            // What reaches here without a code is async-graphql's coercion of a client's input.
            let code = ensure_code(err, ErrorCode::BadUserInput);
            self.metrics.observe_error(code);
        }
        let operation = self.operation.lock().unwrap_or_else(PoisonError::into_inner).take();
        self.metrics.observe_request(operation.as_deref(), started.elapsed());
        response
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        next.run(ctx).await.map_err(|mut errors| {
            for err in &mut errors {
                // A value of the wrong kind for an argument (an enum value the schema does not
                // know, a string for a number) is the client's input, like any other bad
                // input: BAD_USER_INPUT naming the argument, as `input.cause`.
                if let Some(field) = invalid_argument(&err.message) {
                    let extensions = err.extensions.get_or_insert_with(Default::default);
                    extensions.set("code", ErrorCode::BadUserInput.as_str());
                    extensions.set("field", field);
                }
                ensure_code(err, ErrorCode::GraphqlValidationFailed);
            }
            errors
        })
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        // `-` in the metrics is a document that never ran; `anonymous` ran without a name.
        let name = operation_name.unwrap_or("anonymous");
        *self.operation.lock().unwrap_or_else(PoisonError::into_inner) = Some(name.to_owned());
        let span = tracing::info_span!("graphql", operation = name);
        next.run(ctx, operation_name).instrument(span).await
    }
}

/// The argument a validation message of async-graphql refuses a value of: `input.cause` in
/// `Invalid value for argument "input.cause", enumeration type …`.
fn invalid_argument(message: &str) -> Option<String> {
    let rest = message.strip_prefix("Invalid value for argument \"")?;
    rest.split_once('"').map(|(name, _)| name.to_owned())
}
