//! The GraphQL transport: schema assembly, thin resolvers, output types and extensions.
//!
//! Resolvers authorise, call one service, and convert; they hold no SQL and no rules.

pub mod access;
mod extensions;
mod loaders;
mod mutation;
mod query;
mod types;

use std::sync::Arc;

use async_graphql::{Context, EmptySubscription, Schema, SchemaBuilder};

pub use extensions::HttpGet;

use crate::config::{GraphqlSettings, Settings};
use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;
use crate::service::{ClientAddress, Principal, RequestId, Services};

pub type RegistrySchema = Schema<query::Query, mutation::Mutation, EmptySubscription>;

/// The schema the service runs: limits from configuration, services as schema data, and
/// introspection and suggestions off in production (staff and partners get `schema.graphql`).
#[must_use]
pub fn build(settings: &Settings, services: Services, metrics: Arc<Metrics>) -> RegistrySchema {
    let production = settings.is_production();
    let mut builder = builder(&settings.graphql, !production)
        .extension(loaders::Loaders::new(services.clone()))
        .data(services)
        .extension(extensions::Observe::new(metrics));
    if production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL of the contract, built without a database.
#[must_use]
pub fn sdl() -> String {
    builder(&GraphqlSettings::default(), true).finish().sdl()
}

fn builder(
    limits: &GraphqlSettings,
    introspection: bool,
) -> SchemaBuilder<query::Query, mutation::Mutation, EmptySubscription> {
    Schema::build(query::Query::default(), mutation::Mutation::default(), EmptySubscription)
        .limit_depth(limits.max_depth)
        .extension(extensions::Admission {
            max_chars: limits.max_query_chars,
            max_aliases: limits.max_aliases,
            max_complexity: limits.max_complexity,
            introspection,
        })
}

/// The services, from schema data.
fn services<'a>(ctx: &Context<'a>) -> AppResult<&'a Services> {
    ctx.data::<Services>().map_err(|_| AppError::internal(anyhow::anyhow!("schema built without services")))
}

/// The caller, as the HTTP handler established it; anonymous when none was given.
fn principal(ctx: &Context<'_>) -> Principal {
    ctx.data_opt::<Principal>().cloned().unwrap_or_default()
}

/// The client's network address, for per-address rate limits; unknown for in-process calls.
fn client_address(ctx: &Context<'_>) -> ClientAddress {
    ctx.data_opt::<ClientAddress>().copied().unwrap_or_default()
}

/// The request id, for the audit trail.
fn request_id<'a>(ctx: &Context<'a>) -> Option<&'a str> {
    ctx.data_opt::<RequestId>().and_then(RequestId::as_deref)
}

/// An `ID` argument as the UUID every record is keyed by; BAD_USER_INPUT on `field` otherwise.
fn parse_id(field: &'static str, id: &str) -> AppResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id).map_err(|_| AppError::invalid(field, "is not an id"))
}
