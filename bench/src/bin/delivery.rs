//! Delivery throughput: messages per second from the PostgreSQL outbox to a loopback gateway,
//! with one and with two worker pools (two service processes' worth), against the ceiling of
//! the same provider client sending straight to the same gateway, which does no work.
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
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let messages = arg("messages", 20_000);
    let workers = arg("workers", 2);
    let batch = arg("batch", 100);
    run(Backend::Postgres, move |db| async move {
        let gateway = FakeGateway::start_bare().await;
        let ceiling = ceiling(&gateway, messages, workers * batch).await;
        let one = deliver(&db, &gateway, messages, 1, workers, batch).await;
        let two = deliver(&db, &gateway, messages, 2, workers, batch).await;
        println!("delivery to a loopback gateway: {messages} messages, {workers} workers x batch {batch} per pool");
        println!("  gateway ceiling (provider client alone): {ceiling:>8.0} msg/s");
        println!("  1 worker pool:                           {one:>8.0} msg/s   ratio to ceiling {:.2}", one / ceiling);
        println!("  2 worker pools:                          {two:>8.0} msg/s   ratio to ceiling {:.2}", two / ceiling);
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
    let run_id = Uuid::now_v7();
    let first = &apps[0].app;
    for chunk in (0..messages).collect::<Vec<_>>().chunks(1_000) {
        let txn = first.db().begin().await.unwrap();
        for n in chunk {
            let message =
                login_code(&format!("+86139{n:08}"), &format!("{:06}", n % 1_000_000), format!("bench:{run_id}:{n}"));
            first.messaging().queue(&txn, message).await.unwrap();
        }
        txn.commit().await.unwrap();
    }
    let db_handle = first.db().clone();
    let accepted = || async {
        outbound_message::Entity::find()
            .filter(outbound_message::Column::Status.eq(Status::Accepted))
            .count(&db_handle)
            .await
            .unwrap()
    };
    let before = accepted().await;
    let target = gateway.requests() + messages as u64;

    let started = Instant::now();
    let mut servers = Vec::new();
    for app in &apps {
        servers.push(app.serve().await);
    }
    while gateway.requests() < target {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // The last batch is recorded right after its sends.
    while accepted().await < before + messages as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = started.elapsed();
    for server in servers {
        server.stop().await.unwrap();
    }
    messages as f64 / elapsed.as_secs_f64()
}
