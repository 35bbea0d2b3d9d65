//! The marrow donor registry's GraphQL service.
//!
//! Layers, from the outside in: [`http`] (routes, limits, negotiation) and [`graphql`] (thin
//! resolvers) call [`service`] (use cases and their rules), which uses [`domain`] (the
//! registry's vocabulary as checked types), [`pii`] (encryption and blind indexes) and the
//! `entity` crate (tables). Beside them, [`messaging`] (the outbox and its providers) and
//! [`jobs`] (the engine that runs every kind of background work) serve the services. Nothing
//! inside depends on anything outside it.

pub mod auth;
pub mod config;
pub mod db;
pub mod digest;
pub mod domain;
pub mod error;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod messaging;
pub mod metrics;
pub mod pii;
pub mod service;
pub mod telemetry;

mod app;

pub use app::{App, shutdown_signal};
