//! Logging: human-readable by default, JSON by `log.format = "json"`.
//!
//! Every log line of a request carries the request span (method, path, request id) and the
//! GraphQL operation span; URLs are logged by path only, since a GET query string may carry
//! variables with personal data.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use crate::config::{LogFormat, LogSettings};

/// Installs the global subscriber.
///
/// # Errors
/// An invalid filter, or a subscriber already installed.
pub fn init(settings: &LogSettings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&settings.filter)?;
    let registry = tracing_subscriber::registry().with(filter);
    let installed = match settings.format {
        LogFormat::Text => {
            registry.with(tracing_subscriber::fmt::layer().with_ansi(std::io::stdout().is_terminal())).try_init()
        }
        LogFormat::Json => registry
            .with(tracing_subscriber::fmt::layer().json().with_current_span(true).with_span_list(true))
            .try_init(),
    };
    installed?;
    Ok(())
}
