//! Staff retention at national scale, on PostgreSQL seeded with the synthetic registry of 3.6
//! million volunteers. Each figure is measured through the real server (token check, GraphQL,
//! services, decryption and masking) and beside it a comparator on the same pool: the same SQL
//! statement run bare, or the same rows inserted bare. Samples alternate between the two.
//!
//! ```text
//! createdb -h 127.0.0.1 -U postgres registry_bench
//! REGISTRY_DATA_DIR=target/bench-data REGISTRY_DATABASE__URL=postgres://postgres@127.0.0.1/registry_bench \
//!   cargo run --release -p api --bin registry-admin -- seed-registry 3600000
//! cargo run --release -p bench --bin retention -- [--samples 200] [--launch-only 1]
//! ```
//!
//! The bench reads `RETENTION_BENCH_URL` (default the database above) with the keys kept in
//! `target/bench-data`, which the seeding wrote. It leaves the register as it found it.

#![allow(clippy::print_stdout, clippy::cast_precision_loss, clippy::unwrap_used, clippy::expect_used)] // a report
#![allow(clippy::disallowed_methods)] // the comparator writes bare SQL, as the service does not

use std::time::{Duration, Instant};

use api::config::Settings;
use api::service::BranchScope;
use api::service::development::registry::Synthetic;
use api::service::retention::{SearchOrder, SortField, VolunteerFilter};
use bench::{arg, explain, gql, measure, peak_rss_mib, raw, report, staff_tokens};
use chrono::Utc;
use entity::{campaign, campaign_recipient, job_lease, outbound_message, volunteer};
use rand::{Rng, SeedableRng};
use registry_tests::{Server, TestApp};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Statement, TransactionTrait,
};
use serde_json::json;

const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/registry_bench";
const NODE: &str =
    "edges { node { id branchCode name primaryPhone status statusReason lastConfirmedAt bloodGroup { abo rh } } }";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let samples = arg("samples", 200);
    let url = std::env::var("RETENTION_BENCH_URL").unwrap_or_else(|_| DEFAULT_URL.to_owned());
    let mut settings = Settings { data_dir: std::path::PathBuf::from("target/bench-data"), ..Settings::default() };
    settings.database.url = Some(url.into());
    settings.database.statement_timeout_ms = 120_000;
    settings.http.request_timeout_ms = 120_000;
    settings.messaging.workers = 0;
    let app = TestApp { app: Box::new(api::App::build(settings).await?) };
    let db = app.app.db().clone();
    let count = volunteer::Entity::find().count(&db).await?;
    anyhow::ensure!(count >= 1_000, "seed the bench database first (see this program's doc comment)");
    // The retention jobs are timed below, on their own; the served app must not start them.
    hold_jobs(&db).await?;
    let server = app.serve().await;
    let (admin, coordinator) = staff_tokens(&app, "retention").await;
    println!("retention at scale: {count} volunteers on PostgreSQL; {samples} samples each; p50 / p95 in ms");
    println!("  {}", statistics_state(&db).await?);
    println!("  (service = the real server over loopback HTTP; bare = the same SQL statement on the same pool)\n");

    let run = Run { app: &app, server: &server, admin: &admin, coordinator: &coordinator, samples };
    // `--launch-only 1` measures only the launch, for work on the launcher.
    if arg("launch-only", 0) == 0 {
        run.searches(count).await?;
        run.previews().await;
    }
    run.launch().await?;
    if arg("launch-only", 0) == 0 {
        run.jobs().await?;
    }
    cleanup(&db).await?;
    println!("\npeak resident memory of this process (server, client and comparators): {} MiB", peak_rss_mib());
    server.stop().await?;
    Ok(())
}

fn count_statement(branch: Option<&str>) -> Statement {
    let stale_before = Utc::now() - chrono::Duration::days(365);
    match branch {
        Some(branch) => Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) FROM volunteer WHERE branch_code = $1 AND last_confirmed_at < $2",
            [branch.into(), stale_before.into()],
        ),
        None => Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) FROM volunteer WHERE last_confirmed_at < $1",
            [stale_before.into()],
        ),
    }
}

/// How the bare comparator writes its rows.
#[derive(Clone, Copy)]
enum Insert {
    /// Multi-row `VALUES` statements of 500 rows, as SeaORM's `insert_many` writes them.
    Values,
    /// The arrays of [`api::db::bulk::insert`], as the launcher writes them.
    Unnest,
}

/// Inserts `rows` outbox rows bare, 2,000 per transaction, with the ciphertexts computed once:
/// the ceiling of queueing a campaign.
async fn bare_insert(app: &TestApp, rows: u32, how: Insert) -> anyhow::Result<Duration> {
    let keys = &app.app.services().keys;
    let phone = keys
        .cipher
        .encrypt("+8613800000001", api::pii::Binding { table: "bench", column: "phone", row: uuid::Uuid::nil() });
    let variables = keys
        .cipher
        .encrypt("{\"name\":\"张三\"}", api::pii::Binding { table: "bench", column: "vars", row: uuid::Uuid::nil() });
    let index = keys.blind_index.digest("bench", "+8613800000001");
    let now = Utc::now();
    let started = Instant::now();
    let db = app.app.db();
    for batch in 0..rows.div_ceil(2000) {
        let txn = db.begin().await?;
        let models: Vec<outbound_message::ActiveModel> = (0..2000.min(rows - batch * 2000))
            .map(|n| outbound_message::ActiveModel {
                id: Set(uuid::Uuid::now_v7()),
                channel: Set(outbound_message::Channel::Sms),
                purpose: Set(outbound_message::Purpose::NonEssential),
                status: Set(outbound_message::Status::Cancelled),
                branch_code: Set("51".into()),
                volunteer_id: Set(None),
                recipient_phone: Set(Some(phone.clone())),
                recipient_phone_index: Set(Some(index.clone())),
                template_key: Set("recommitment".into()),
                locale: Set("zh-CN".into()),
                variables: Set(variables.clone()),
                segments: Set(2),
                dedupe_key: Set(format!("bench:{batch}:{n}:{}", now.timestamp_nanos_opt().unwrap_or_default())),
                campaign_id: Set(Some(uuid::Uuid::nil())),
                attempts: Set(0),
                next_attempt_at: Set(now),
                claimed_by: Set(None),
                claimed_until: Set(None),
                provider: Set(None),
                provider_message_id: Set(None),
                last_error: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
                sent_at: Set(None),
                delivered_at: Set(None),
            })
            .collect();
        match how {
            Insert::Values => {
                let mut models = models.into_iter().peekable();
                while models.peek().is_some() {
                    let chunk: Vec<_> = models.by_ref().take(500).collect();
                    outbound_message::Entity::insert_many(chunk).exec_without_returning(&txn).await?;
                }
            }
            Insert::Unnest => {
                api::db::bulk::insert::<outbound_message::Entity, _>(&txn, models, None).await?;
            }
        }
        txn.commit().await?;
    }
    Ok(started.elapsed())
}

/// Takes the retention jobs' leases for an hour, so that the served app does not run them.
async fn hold_jobs(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let now = Utc::now();
    for name in ["retention.work_queue", "retention.attrition"] {
        job_lease::Entity::delete_by_id(name).exec(db).await?;
        job_lease::Entity::insert(job_lease::ActiveModel {
            name: Set(name.into()),
            started_at: Set(now),
            lease_until: Set(now + chrono::Duration::hours(1)),
        })
        .exec_without_returning(db)
        .await?;
    }
    Ok(())
}

/// Removes what the bench wrote: its campaigns, their recipients and messages, and the bare rows.
async fn cleanup(db: &sea_orm::DatabaseConnection) -> anyhow::Result<()> {
    let ids: Vec<uuid::Uuid> = campaign::Entity::find()
        .filter(campaign::Column::Name.is_in(["bench", "bench 100k"]))
        .all(db)
        .await?
        .into_iter()
        .map(|campaign| campaign.id)
        .collect();
    let mut ids_with_bare = ids.clone();
    ids_with_bare.push(uuid::Uuid::nil());
    outbound_message::Entity::delete_many()
        .filter(outbound_message::Column::CampaignId.is_in(ids_with_bare))
        .exec(db)
        .await?;
    campaign_recipient::Entity::delete_many()
        .filter(campaign_recipient::Column::CampaignId.is_in(ids.clone()))
        .exec(db)
        .await?;
    campaign::Entity::delete_many().filter(campaign::Column::Id.is_in(ids)).exec(db).await?;
    job_lease::Entity::delete_many().filter(job_lease::Column::Name.like("retention.%")).exec(db).await?;
    Ok(())
}

/// One run of the measurements: the served app, its staff tokens and the sample count.
struct Run<'a> {
    app: &'a TestApp,
    server: &'a Server,
    admin: &'a str,
    coordinator: &'a str,
    samples: usize,
}

impl Run<'_> {
    /// The common staff searches, each beside its bare statement, with its plan.
    async fn searches(&self, count: u64) -> anyhow::Result<()> {
        let db = self.app.app.db();
        let registry = Synthetic { count: u32::try_from(count)?, seed: 1, now: Utc::now() };
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let search = self.app.app.services().search.clone();
        let national = BranchScope::All;

        // 1. By phone: a random volunteer of the whole register, through the blind index.
        let phones: Vec<String> = (0..self.samples)
            .map(|_| Synthetic::phone(rng.gen_range(0..registry.count)).unwrap().expose().to_owned())
            .collect();
        let query = format!("query($f: VolunteerFilter) {{ searchVolunteers(filter: $f, first: 50) {{ {NODE} }} }}");
        let mut phone_at = 0;
        let by_phone = measure(self.samples, || {
            phone_at = (phone_at + 1) % phones.len();
            let variables = json!({ "f": { "phone": phones[phone_at] } });
            gql(self.server, self.admin, &query, variables)
        })
        .await;
        let filter = VolunteerFilter { phone: Some(api::domain::Phone::parse(&phones[0])?), ..Default::default() };
        let statement = search
            .page_statement(&national, &filter, SearchOrder::default(), 50)
            .map_err(|err| anyhow::anyhow!("{err:?}"))?;
        let bare = measure(self.samples, || raw(db, statement.clone())).await;
        report("search by phone (national administrator)", &by_phone, &bare);
        explain(db, &statement).await?;

        // 2. The stale-contact segment of one branch, stalest first.
        let stale =
            json!({ "f": { "confirmedOverMonths": 12 }, "o": { "field": "LAST_CONFIRMED_AT", "direction": "ASC" } });
        let query = format!(
            "query($f: VolunteerFilter, $o: VolunteerOrder) {{ searchVolunteers(filter: $f, orderBy: $o, first: 50) {{ {NODE} }} }}"
        );
        let service = measure(self.samples, || gql(self.server, self.coordinator, &query, stale.clone())).await;
        let filter =
            VolunteerFilter { branch_code: Some("51".into()), confirmed_over_months: Some(12), ..Default::default() };
        let order = SearchOrder { field: SortField::LastConfirmedAt, descending: false };
        let statement =
            search.page_statement(&national, &filter, order, 50).map_err(|err| anyhow::anyhow!("{err:?}"))?;
        let bare = measure(self.samples, || raw(db, statement.clone())).await;
        report("stale-contact segment of branch 51, first page of 50 (coordinator)", &service, &bare);
        explain(db, &statement).await?;

        // 3. By blood group and city, nationally.
        let rare = json!({ "f": { "abo": "AB", "city": "广州" } });
        let query = format!("query($f: VolunteerFilter) {{ searchVolunteers(filter: $f, first: 50) {{ {NODE} }} }}");
        let service = measure(self.samples, || gql(self.server, self.admin, &query, rare.clone())).await;
        let filter =
            VolunteerFilter { abo: Some(api::domain::Abo::Ab), city: Some("广州".into()), ..Default::default() };
        let statement = search
            .page_statement(&national, &filter, SearchOrder::default(), 50)
            .map_err(|err| anyhow::anyhow!("{err:?}"))?;
        let bare = measure(self.samples, || raw(db, statement.clone())).await;
        report("blood group AB in 广州, newest first, page of 50 (national administrator)", &service, &bare);
        explain(db, &statement).await?;

        Ok(())
    }

    /// The segment preview of a draft campaign, of one branch and of the whole register.
    async fn previews(&self) {
        let db = self.app.app.db();
        // 4. The segment preview of a draft campaign: of one branch, and of the whole register.
        for (token, branch, what) in [
            (self.coordinator, Some("51"), "branch 51, confirmed over 12 months ago"),
            (self.admin, None, "the whole register, confirmed over 12 months ago"),
        ] {
            let segment = json!({ "confirmedOverMonths": 12 });
            let created = gql(
                self.server,
                token,
                "mutation($i: CampaignInput!) { createCampaign(input: $i) { id } }",
                json!({ "i": { "name": "bench", "segment": segment, "templateKey": "recommitment" } }),
            )
            .await;
            let id = created["data"]["createCampaign"]["id"].as_str().unwrap().to_owned();
            let preview = "query($id: ID!) { campaign(id: $id) { preview { recipients smsRecipients smsSegments } } }";
            let rounds = (self.samples / 20).max(5);
            let service = measure(rounds, || gql(self.server, token, preview, json!({ "id": id }))).await;
            let figures = gql(self.server, token, preview, json!({ "id": id })).await;
            let count_sql = count_statement(branch);
            let bare = measure(rounds, || raw(db, count_sql.clone())).await;
            report(&format!("segment preview, {what}: {}", figures["data"]["campaign"]["preview"]), &service, &bare);
        }
    }

    /// Launching a 100,000-recipient campaign, until every message is queued.
    async fn launch(&self) -> anyhow::Result<()> {
        let db = self.app.app.db();
        // 5. Launching a 100,000-recipient campaign: until every message is queued.
        let created = gql(
            self.server,
            self.admin,
            "mutation($i: CampaignInput!) { createCampaign(input: $i) { id } }",
            json!({ "i": {
            "name": "bench 100k", "segment": { "confirmedOverMonths": 12, "statuses": ["AV", "PENDING"] },
            "templateKey": "recommitment", "maxRecipients": 100_000 } }),
        )
        .await;
        let id = created["data"]["createCampaign"]["id"].as_str().unwrap().to_owned();
        let started = Instant::now();
        let launched = gql(
            self.server,
            self.admin,
            "mutation($id: ID!) { launchCampaign(id: $id) { recipients } }",
            json!({ "id": id }),
        )
        .await;
        let fixed = started.elapsed();
        loop {
            let page = gql(
                self.server,
                self.admin,
                "query($id: ID!) { campaign(id: $id) { status queued } }",
                json!({ "id": id }),
            )
            .await;
            if page["data"]["campaign"]["status"] == "LAUNCHED" {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let queued = started.elapsed();
        let messages = outbound_message::Entity::find()
            .filter(outbound_message::Column::CampaignId.eq(uuid::Uuid::parse_str(&id)?))
            .count(db)
            .await?;
        let rows = u32::try_from(messages)?;
        let values = bare_insert(self.app, rows, Insert::Values).await?;
        let unnest = bare_insert(self.app, rows, Insert::Unnest).await?;
        println!(
            "launch of a {}-recipient campaign: recipients fixed in {:.2} s, all {messages} messages queued in {:.2} s\n  \
             bare insert of as many outbox rows: multi-row VALUES {:.2} s, UNNEST arrays {:.2} s; \
             ratio to UNNEST {:.2}, to VALUES {:.2}",
            launched["data"]["launchCampaign"]["recipients"],
            fixed.as_secs_f64(),
            queued.as_secs_f64(),
            values.as_secs_f64(),
            unnest.as_secs_f64(),
            queued.as_secs_f64() / unnest.as_secs_f64(),
            queued.as_secs_f64() / values.as_secs_f64(),
        );

        Ok(())
    }

    /// The jobs, and the reads of what they keep.
    async fn jobs(&self) -> anyhow::Result<()> {
        let db = self.app.app.db();
        // 6. The jobs, and the attrition figures they roll up.
        let started = Instant::now();
        let refreshed =
            self.app.app.services().work_queue.refresh(Utc::now()).await.map_err(|err| anyhow::anyhow!("{err:?}"))?;
        println!(
            "\ndaily work-queue refresh: {} in the queue, {} left, in {:.1} s",
            refreshed.queued,
            refreshed.left,
            started.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let rows =
            self.app.app.services().attrition.snapshot(Utc::now()).await.map_err(|err| anyhow::anyhow!("{err:?}"))?;
        println!("hourly attrition snapshot: {rows} branch rows in {:.1} s", started.elapsed().as_secs_f64());
        let month = Utc::now().date_naive();
        let figures = "query($b: String, $f: NaiveDate!, $t: NaiveDate!) { attritionFigures(branchCode: $b, from: $f, to: $t) { month volunteers reachableShare lostShare campaignResponseRate computedAt } }";
        let year_ago = month - chrono::Duration::days(365);
        let service =
            measure(self.samples, || gql(self.server, self.admin, figures, json!({ "f": year_ago, "t": month }))).await;
        let rollup = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT * FROM attrition_rollup WHERE month BETWEEN $1 AND $2 ORDER BY month",
            [year_ago.into(), month.into()],
        );
        let bare = measure(self.samples, || raw(db, rollup.clone())).await;
        report("attrition figures, national, last 12 months", &service, &bare);
        let service =
            measure(self.samples, || gql(self.server, self.coordinator, figures, json!({ "f": year_ago, "t": month })))
                .await;
        report("attrition figures, branch 51, last 12 months", &service, &bare);
        let queue = "{ lostContactQueue(first: 50) { entries { priority reasons volunteer { id name backupContacts { phone } } } } }";
        let service = measure(self.samples, || gql(self.server, self.coordinator, queue, json!({}))).await;
        let bare_queue = Statement::from_string(
            DbBackend::Postgres,
            "SELECT e.* FROM lost_contact_entry e JOIN volunteer v ON v.id = e.volunteer_id WHERE e.branch_code = '51' \
             AND v.status IN ('AV', 'pending') AND v.last_confirmed_at <= e.refreshed_at \
             ORDER BY e.priority DESC, e.entered_at, e.volunteer_id LIMIT 51",
        );
        let bare = measure(self.samples, || raw(db, bare_queue.clone())).await;
        report("lost-contact queue of branch 51, page of 50 with backup contacts", &service, &bare);
        explain(db, &bare_queue).await?;

        Ok(())
    }
}

/// When the register's tables were last analysed, so that a figure says what state it was
/// measured in: without statistics the planner misjudges every segment.
async fn statistics_state(db: &sea_orm::DatabaseConnection) -> anyhow::Result<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT relname, greatest(last_analyze, last_autoanalyze)::text AS analysed \
             FROM pg_stat_user_tables WHERE relname IN ('volunteer', 'volunteer_contact', 'backup_contact') \
             ORDER BY relname",
        ))
        .await?;
    let mut parts = Vec::new();
    for row in rows {
        let table: String = row.try_get("", "relname")?;
        let analysed: Option<String> = row.try_get("", "analysed")?;
        parts.push(format!("{table} {}", analysed.unwrap_or_else(|| "NEVER (no statistics)".into())));
    }
    Ok(format!("tables last analysed: {}", parts.join(", ")))
}
