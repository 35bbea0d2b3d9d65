//! Shared pieces of the benchmark programs.

#![allow(clippy::print_stdout, clippy::cast_precision_loss)] // a report of figures
#![allow(clippy::expect_used, clippy::missing_panics_doc)] // a benchmark: a panic is its failure report

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

/// Staff tokens for new accounts of this run (`bench.<tag>.<role>.<time>`): a national
/// administrator and a coordinator of branch 51.
pub async fn staff_tokens(app: &registry_tests::TestApp, tag: &str) -> (String, String) {
    use api::service::{NewStaff, Principal, StaffRole};
    let admin = Principal::Staff { id: uuid::Uuid::now_v7(), role: StaffRole::NationalAdmin, branch: "11".into() };
    let stamp = chrono::Utc::now().timestamp_millis();
    let mut tokens = Vec::new();
    for (role, branch) in [(StaffRole::NationalAdmin, "11"), (StaffRole::BranchCoordinator, "51")] {
        let input = NewStaff {
            username: format!("bench.{tag}.{}.{stamp}", role.as_str()),
            password: registry_tests::STAFF_PASSWORD.into(),
            role,
            branch_code: branch.into(),
        };
        let national = admin.national_admin().expect("a national administrator");
        let created = app.app.staff().create(&national, &admin, input, None).await.expect("a staff account");
        let principal = Principal::Staff { id: created.id, role, branch: branch.into() };
        tokens.push(app.app.tokens().issue(&principal, 1, None, chrono::Utc::now()).expect("a token"));
    }
    (tokens.remove(0), tokens.remove(0))
}

/// Runs `query` through the server as `token`; it must succeed.
pub async fn gql(server: &registry_tests::Server, token: &str, query: &str, variables: Value) -> Value {
    let (status, body) = server.gql(Some(token), query, variables).await;
    assert!(status == 200 && body.get("errors").is_none(), "{query}: {body}");
    body
}

/// Runs `statement` bare on `db`; answers how many rows came back.
pub async fn raw(db: &sea_orm::DatabaseConnection, statement: Statement) -> Value {
    serde_json::json!(db.query_all_raw(statement).await.expect("the statement runs").len())
}
