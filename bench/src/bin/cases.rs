//! Donation cases at national scale, on PostgreSQL seeded with the synthetic registry of 3.6
//! million volunteers and its ten years of case history. Each figure is measured through the
//! real server (token check, GraphQL, services) beside the same SQL statements run bare on the
//! same pool. The target for each p95 is under 50 ms.
//!
//! ```text
//! createdb -h 127.0.0.1 -U postgres registry_bench
//! REGISTRY_DATA_DIR=target/bench-data REGISTRY_DATABASE__URL=postgres://postgres@127.0.0.1/registry_bench \
//!   cargo run --release -p api --bin registry-admin -- seed-registry 3600000
//! cargo run --release -p bench --bin cases -- [--samples 200]
//! ```
//!
//! The bench reads `CASES_BENCH_URL` (default the database above) with the keys kept in
//! `target/bench-data`, which the seeding wrote. It writes nothing but two staff accounts.

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)] // a report

use api::config::Settings;
use bench::{arg, explain, gql, measure, peak_rss_mib, raw, report, staff_tokens};
use chrono::{Months, Utc};
use entity::donation_case;
use registry_tests::TestApp;
use sea_orm::{DbBackend, EntityTrait, PaginatorTrait, Statement};
use serde_json::json;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/registry_bench";
const LIST: &str = "query($f: CaseFilterInput) { donationCases(filter: $f, first: 20) { nodes { id volunteerId patientReference product urgency state stage stageOn stageDueAt staleContact } nextCursor } }";
const FIGURES: &str = "query($b: String, $from: NaiveDate!, $to: NaiveDate!) { attritionFigures(branchCode: $b, from: $from, to: $to) { month cases { opened collected endedEarly donorEnded regretRate lateRegrets byStage { stage ended donorEnded regretRate } byCause { cause count share } milestoneDays { stage count medianDays p90Days } } } }";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let samples = arg("samples", 200);
    let url = std::env::var("CASES_BENCH_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let mut settings = Settings { data_dir: std::path::PathBuf::from("target/bench-data"), ..Settings::default() };
    settings.database.url = Some(url.into());
    settings.messaging.workers = 0;
    let app = TestApp { app: Box::new(api::App::build(settings).await?) };
    let db = app.app.db().clone();
    let cases = donation_case::Entity::find().count(&db).await?;
    anyhow::ensure!(cases >= 1_000, "seed the bench database first (see this program's doc comment)");
    let volunteers = entity::volunteer::Entity::find().count(&db).await?;
    let server = app.serve().await;
    let (admin, coordinator) = staff_tokens(&app, "cases").await;
    println!(
        "donation cases at scale: {volunteers} volunteers, {cases} cases on PostgreSQL; {samples} samples each; p50 / p95 in ms"
    );
    println!("  (service = the real server over loopback HTTP; bare = the same SQL on the same pool)\n");

    for stage in ["CT_REQUESTED", "EXAM_PASSED", "FOLLOW_UP"] {
        let variables = json!({ "f": { "branchCode": "51", "stage": stage } });
        let service = measure(samples, || gql(&server, &coordinator, LIST, variables.clone())).await;
        let statement = list_statement("51", &stage.to_lowercase());
        let bare = measure(samples, || raw(&db, statement.clone())).await;
        report(&format!("case list of branch 51 at {stage}, first page of 20 (coordinator)"), &service, &bare);
        explain(&db, &statement).await?;
    }

    let today = Utc::now().date_naive();
    let from = today.checked_sub_months(Months::new(11)).unwrap();
    for (who, token, branch) in [("nationally", &admin, None), ("branch 51", &coordinator, Some("51"))] {
        let variables = json!({ "b": branch, "from": from, "to": today });
        let service = measure(samples, || gql(&server, token, FIGURES, variables.clone())).await;
        let (register, regret) = figures_statements(branch.unwrap_or(api::service::cases::NATIONAL), from, today);
        let bare = measure(samples, || async {
            raw(&db, register.clone()).await;
            raw(&db, regret.clone()).await
        })
        .await;
        report(&format!("regret figures {who}, twelve months"), &service, &bare);
    }
    println!("\npeak resident memory of this process (server, client and comparators): {} MiB", peak_rss_mib());
    server.stop().await?;
    Ok(())
}

/// The list's statement as the service runs it.
fn list_statement(branch: &str, stage: &str) -> Statement {
    Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT * FROM donation_case WHERE branch_code = $1 AND stage = $2 ORDER BY opened_at DESC, id DESC LIMIT 21",
        [branch.into(), stage.into()],
    )
}

/// The two statements behind the figures: the register's snapshots and the case figures.
fn figures_statements(branch: &str, from: chrono::NaiveDate, to: chrono::NaiveDate) -> (Statement, Statement) {
    let register = if branch == api::service::cases::NATIONAL {
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT * FROM attrition_rollup WHERE month BETWEEN $1 AND $2 ORDER BY month",
            [from.into(), to.into()],
        )
    } else {
        Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT * FROM attrition_rollup WHERE month BETWEEN $1 AND $2 AND branch_code = $3 ORDER BY month",
            [from.into(), to.into(), branch.into()],
        )
    };
    let regret = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT * FROM case_figures WHERE branch_code = $1 AND month BETWEEN $2 AND $3 ORDER BY month",
        [branch.into(), from.into(), to.into()],
    );
    (register, regret)
}
