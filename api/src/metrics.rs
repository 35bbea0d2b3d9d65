//! Prometheus metrics: GraphQL requests and latency by operation, errors by code, SQL
//! statements, pool usage, messages and background jobs.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::error::ErrorCode;

/// Operation names are chosen by clients; past this many distinct names, new ones are counted
/// as `other` so that a client cannot grow the metric set without bound.
const MAX_OPERATION_NAMES: usize = 256;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OperationLabel {
    operation: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabel {
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MessageLabel {
    channel: &'static str,
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabel {
    kind: String,
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabel {
    state: &'static str,
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<OperationLabel, Counter>,
    latency: Family<OperationLabel, Histogram>,
    errors: Family<CodeLabel, Counter>,
    statements: Counter,
    failed_statements: Counter,
    pool: Family<PoolLabel, Gauge>,
    messages: Family<MessageLabel, Counter>,
    jobs: Family<JobLabel, Counter>,
    queue_age: Gauge<f64, std::sync::atomic::AtomicU64>,
    operation_names: Mutex<HashSet<String>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("registry");
        let requests = Family::<OperationLabel, Counter>::default();
        let latency = Family::<OperationLabel, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        let errors = Family::<CodeLabel, Counter>::default();
        let statements = Counter::default();
        let failed_statements = Counter::default();
        let pool = Family::<PoolLabel, Gauge>::default();
        let messages = Family::<MessageLabel, Counter>::default();
        let queue_age = Gauge::<f64, std::sync::atomic::AtomicU64>::default();
        let jobs = Family::<JobLabel, Counter>::default();
        registry.register("graphql_requests", "GraphQL requests by operation name", requests.clone());
        registry.register(
            "graphql_request_duration_seconds",
            "GraphQL request latency by operation name",
            latency.clone(),
        );
        registry.register("graphql_errors", "GraphQL errors by extensions.code", errors.clone());
        registry.register("db_statements", "SQL statements executed", statements.clone());
        registry.register("db_statement_failures", "SQL statements that failed", failed_statements.clone());
        registry.register("db_pool_connections", "Database pool connections by state", pool.clone());
        registry.register(
            "messages",
            "Outbound messages by channel and event (queued, sent, retried, failed, held, cancelled, delivered, undelivered)",
            messages.clone(),
        );
        registry.register(
            "jobs",
            "Background work by kind and event (claimed, done, retried, dead, lost, round_failed)",
            jobs.clone(),
        );
        registry.register(
            "messaging_queue_age_seconds",
            "How long the oldest due message has waited",
            queue_age.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            errors,
            statements,
            failed_statements,
            pool,
            messages,
            jobs,
            queue_age,
            operation_names: Mutex::new(HashSet::new()),
        }
    }

    /// Records one GraphQL request. `operation` is `None` for documents that never reached execution.
    pub fn observe_request(&self, operation: Option<&str>, elapsed: Duration) {
        let label = OperationLabel { operation: self.operation_label(operation) };
        self.requests.get_or_create(&label).inc();
        self.latency.get_or_create(&label).observe(elapsed.as_secs_f64());
    }

    pub fn observe_error(&self, code: ErrorCode) {
        self.errors.get_or_create(&CodeLabel { code: code.as_str() }).inc();
    }

    pub fn observe_statement(&self, failed: bool) {
        self.statements.inc();
        if failed {
            self.failed_statements.inc();
        }
    }

    /// SQL statements executed since start; tests read it to bound statements per operation.
    #[must_use]
    pub fn statements(&self) -> u64 {
        self.statements.get()
    }

    pub fn observe_message(&self, channel: entity::outbound_message::Channel, event: &'static str) {
        self.messages.get_or_create(&MessageLabel { channel: channel.as_str(), event }).inc();
    }

    /// Counts an event of background work; `kind` is a job kind or periodic task, a fixed set.
    pub fn observe_job(&self, kind: &str, event: &'static str) {
        self.jobs.get_or_create(&JobLabel { kind: kind.to_owned(), event }).inc();
    }

    pub fn set_queue_age(&self, age: Duration) {
        self.queue_age.set(age.as_secs_f64());
    }

    pub fn set_pool(&self, in_use: u32, idle: u32, max: u32) {
        for (state, value) in [("in_use", in_use), ("idle", idle), ("max", max)] {
            self.pool.get_or_create(&PoolLabel { state }).set(i64::from(value));
        }
    }

    /// The OpenMetrics text exposition, which Prometheus scrapes natively.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }

    fn operation_label(&self, operation: Option<&str>) -> String {
        let Some(name) = operation else {
            return "-".into();
        };
        let mut known = self.operation_names.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if known.contains(name) {
            name.to_owned()
        } else if known.len() < MAX_OPERATION_NAMES {
            known.insert(name.to_owned());
            name.to_owned()
        } else {
            "other".into()
        }
    }
}

fn latency_histogram() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operation_names_beyond_the_cap_are_folded_into_other() {
        let metrics = Metrics::new();
        for i in 0..=MAX_OPERATION_NAMES {
            metrics.observe_request(Some(&format!("Op{i}")), Duration::from_millis(1));
        }
        let text = metrics.render();
        assert!(text.contains("operation=\"Op0\""));
        assert!(text.contains("operation=\"other\""));
        assert!(!text.contains(&format!("operation=\"Op{MAX_OPERATION_NAMES}\"")));
    }
}
