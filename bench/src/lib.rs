//! Shared pieces of the benchmark programs.

#![allow(clippy::print_stdout, clippy::cast_precision_loss)] // a report of figures

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::Value;

/// Reads `--name value` from the command line, or `default`.
#[must_use]
pub fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.windows(2).find(|pair| pair[0] == format!("--{name}")).and_then(|pair| pair[1].parse().ok()).unwrap_or(default)
}

/// The `percent`-th percentile of `sorted` timings, in milliseconds.
#[must_use]
pub fn percentile(sorted: &[std::time::Duration], percent: usize) -> f64 {
    sorted[(sorted.len() - 1) * percent / 100].as_secs_f64() * 1000.0
}

/// Runs `work` `samples` times after a tenth as many warm-up runs; returns the sorted timings.
pub async fn measure<F, Fut>(samples: usize, mut work: F) -> Vec<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Value>,
{
    for _ in 0..(samples / 10).max(1) {
        work().await;
    }
    let mut timings = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        work().await;
        timings.push(started.elapsed());
    }
    timings.sort();
    timings
}

/// Prints the service's p50 / p95 beside the bare comparator's, and their ratio.
pub fn report(what: &str, service: &[Duration], bare: &[Duration]) {
    let (p50, p95) = (percentile(service, 50), percentile(service, 95));
    let (bare50, bare95) = (percentile(bare, 50), percentile(bare, 95));
    println!(
        "{what}\n  service {p50:>8.1} / {p95:>8.1}    bare SQL {bare50:>8.1} / {bare95:>8.1}    ratio p50 {:.2}",
        p50 / bare50
    );
}

/// Prints the plan PostgreSQL chooses for `statement`, and whether it walks an index.
pub async fn explain(db: &sea_orm::DatabaseConnection, statement: &Statement) -> Result<(), sea_orm::DbErr> {
    let explained = Statement {
        sql: format!("EXPLAIN (ANALYZE, BUFFERS) {}", statement.sql),
        values: statement.values.clone(),
        db_backend: DbBackend::Postgres,
    };
    let rows = db.query_all_raw(explained).await?;
    let plan: Vec<String> = rows.iter().filter_map(|row| row.try_get_by_index::<String>(0).ok()).collect();
    let uses_index = plan.iter().any(|line| line.contains("Index"));
    println!("  EXPLAIN ({}):", if uses_index { "uses an index" } else { "NO INDEX" });
    for line in plan.iter().filter(|line| !line.trim_start().starts_with("Buffers") && !line.contains("Planning")) {
        println!("    {line}");
    }
    println!();
    Ok(())
}

/// The peak resident memory of this process, in MiB.
#[must_use]
pub fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        })
        .map_or(0, |kb| kb / 1024)
}
