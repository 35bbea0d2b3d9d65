//! Delivery throughput: messages per second from the PostgreSQL outbox to a loopback gateway,
//! with one and with two worker pools (two service processes' worth) run by the job engine,
//! side by side with the loop that drove delivery before the engine (the same batch call in a
//! hand-written loop, as `Messaging::work` was), and against the ceiling of the same provider
//! client sending straight to the same gateway, which does no work.
//!
//! ```text
//! cargo run --release -p bench --bin delivery -- [--messages 20000] [--workers 2] [--batch 100]
//! ```
//!
//! PostgreSQL comes from `TEST_DATABASE_ADMIN_URL`, as in the tests; each run gets a fresh
//! database and drops it.

#![allow(clippy::print_stdout, clippy::cast_precision_loss, clippy::unwrap_used, clippy::expect_used)] // a report
#![allow(clippy::disallowed_methods)] // the comparator and the seeding write bare SQL, as the service does not

use std::time::{Duration, Instant};

use api::config::Settings;
use api::messaging::provider::{OutgoingSms, SmsProvider, TencentSms};
use bench::arg;
use entity::outbound_message::{self, Status};
use futures::StreamExt;
use registry_tests::gateway::{FakeGateway, login_code};
use registry_tests::{Backend, TestDb, run};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let messages = arg("messages", 20_000);
    let workers = arg("workers", 2);
    let batch = arg("batch", 100);
    run(Backend::Postgres, move |db| async move {
        let gateway = FakeGateway::start_bare().await;
        let ceiling = ceiling(&gateway, messages, workers * batch).await;
        let by_hand = deliver_by_hand(&db, &gateway, messages, workers, batch).await;
        let one = deliver(&db, &gateway, messages, 1, workers, batch).await;
        let two = deliver(&db, &gateway, messages, 2, workers, batch).await;
        println!("delivery to a loopback gateway: {messages} messages, {workers} workers x batch {batch} per pool");
        println!("  gateway ceiling (provider client alone): {ceiling:>8.0} msg/s");
        println!(
            "  1 pool, hand-written loop (before):      {by_hand:>8.0} msg/s   ratio to ceiling {:.2}",
            by_hand / ceiling
        );
        println!(
            "  1 pool, job engine:                      {one:>8.0} msg/s   ratio to ceiling {:.2}, to the loop {:.2}",
            one / ceiling,
            one / by_hand
        );
        println!("  2 pools, job engine:                     {two:>8.0} msg/s   ratio to ceiling {:.2}", two / ceiling);
    })
    .await;
}

fn configure(gateway: &FakeGateway, workers: usize, batch: usize) -> impl Fn(&mut Settings) + use<> {
    let point_at_gateway = gateway.configure();
    move |settings| {
        point_at_gateway(settings);
        settings.messaging.workers = workers;
        settings.messaging.batch_size = batch as u64;
        settings.messaging.poll_interval_ms = 20;
        settings.messaging.send_rate_per_second = 1_000_000;
        settings.database.max_connections = 32;
    }
}

/// The provider client sending straight to the gateway, as concurrently as the workers can.
async fn ceiling(gateway: &FakeGateway, messages: usize, concurrency: usize) -> f64 {
    let mut settings = Settings::default();
    gateway.configure()(&mut settings);
    let provider = TencentSms::new(&settings.messaging.tencent).unwrap();
    let sms = OutgoingSms {
        message_id: Uuid::now_v7(),
        phone: "+8613800000001".into(),
        sign_name: "中华骨髓库四川分库".into(),
        template_key: "login_code".into(),
        locale: "zh-CN".into(),
        params: vec!["123456".into(), "5".into()],
        text: "【中华骨髓库四川分库】您的验证码为123456，5分钟内有效，请勿告诉他人。".into(),
    };
    let started = Instant::now();
    futures::stream::iter(0..messages)
        .map(|_| provider.send(&sms))
        .buffer_unordered(concurrency)
        .for_each(|_| async {})
        .await;
    messages as f64 / started.elapsed().as_secs_f64()
}

/// Queues `messages` login codes (not timed), then times `pools` servers' workers sending them.
async fn deliver(
    db: &TestDb,
    gateway: &FakeGateway,
    messages: usize,
    pools: usize,
    workers: usize,
    batch: usize,
) -> f64 {
    let mut apps = Vec::new();
    for _ in 0..pools {
        apps.push(db.app_with(configure(gateway, workers, batch)).await);
    }
    let done = Done::queue(&apps[0].app, gateway, messages).await;
    let started = Instant::now();
    let mut servers = Vec::new();
    for app in &apps {
        servers.push(app.serve().await);
    }
    done.wait().await;
    let elapsed = started.elapsed();
    done.clear().await;
    for server in servers {
        server.stop().await.unwrap();
    }
    messages as f64 / elapsed.as_secs_f64()
}

/// The comparator: the loop each delivery worker ran before the job engine, written out here
/// as it was (claim and deliver a batch; when it came back short, wait for the poll interval).
async fn deliver_by_hand(db: &TestDb, gateway: &FakeGateway, messages: usize, workers: usize, batch: usize) -> f64 {
    let app = db.app_with(configure(gateway, 0, batch)).await;
    let done = Done::queue(&app.app, gateway, messages).await;
    let poll = Duration::from_millis(app.app.settings().messaging.poll_interval_ms);
    let started = Instant::now();
    let loops: Vec<_> = (0..workers)
        .map(|n| {
            let (messaging, target) = (app.app.messaging().clone(), done.target);
            let gateway_requests = gateway.counter();
            tokio::spawn(async move {
                while gateway_requests() < target {
                    if messaging.deliver_batch(&format!("hand-{n}")).await.unwrap() < batch {
                        tokio::time::sleep(poll).await;
                    }
                }
            })
        })
        .collect();
    done.wait().await;
    let elapsed = started.elapsed();
    for worker in loops {
        worker.await.unwrap();
    }
    done.clear().await;
    messages as f64 / elapsed.as_secs_f64()
}

/// Login codes queued for a run, and how to know they are all sent and recorded.
struct Done {
    db: sea_orm::DatabaseConnection,
    requests: Box<dyn Fn() -> u64 + Send + Sync>,
    target: u64,
    accepted: u64,
}

impl Done {
    async fn queue(app: &api::App, gateway: &FakeGateway, messages: usize) -> Self {
        let run_id = Uuid::now_v7();
        for chunk in (0..messages).collect::<Vec<_>>().chunks(1_000) {
            let txn = app.db().begin().await.unwrap();
            for n in chunk {
                let message = login_code(
                    &format!("+86139{n:08}"),
                    &format!("{:06}", n % 1_000_000),
                    format!("bench:{run_id}:{n}"),
                );
                app.messaging().queue(&txn, message).await.unwrap();
            }
            txn.commit().await.unwrap();
        }
        let db = app.db().clone();
        let accepted = accepted(&db).await + messages as u64;
        Self { db, requests: Box::new(gateway.counter()), target: gateway.requests() + messages as u64, accepted }
    }

    async fn wait(&self) {
        while (self.requests)() < self.target {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The last batch is recorded right after its sends.
        while accepted(&self.db).await < self.accepted {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    /// Empties the outbox, so that every run starts from the same table.
    async fn clear(&self) {
        outbound_message::Entity::delete_many().exec(&self.db).await.unwrap();
        self.db.execute_unprepared("VACUUM ANALYZE outbound_message").await.unwrap();
    }
}

async fn accepted(db: &sea_orm::DatabaseConnection) -> u64 {
    outbound_message::Entity::find()
        .filter(outbound_message::Column::Status.eq(Status::Accepted))
        .count(db)
        .await
        .unwrap()
}
