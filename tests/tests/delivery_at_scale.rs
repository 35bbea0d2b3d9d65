//! Two worker pools, as two service processes would run them, over one PostgreSQL database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report
#![allow(clippy::disallowed_methods)] // the tests write fixtures with raw transactions

use std::time::{Duration, Instant};

use entity::outbound_message::{self, Status};
use registry_tests::gateway::{FakeGateway, login_code};
use registry_tests::{Backend, Settings, run};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, TransactionTrait};

const MESSAGES: usize = 10_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_pools_send_10000_messages_each_exactly_once() {
    // Boxed: two apps' worth of state is too large a future for the test's stack.
    Box::pin(run(Backend::Postgres, |db| async move {
        let gateway = FakeGateway::start().await;
        let configure = |settings: &mut Settings| {
            gateway.configure()(settings);
            settings.messaging.workers = 2;
            settings.messaging.batch_size = 100;
            settings.messaging.poll_interval_ms = 20;
            settings.messaging.send_rate_per_second = 1_000_000;
        };
        let first = db.app_with(configure).await;
        let second = db.app_with(configure).await;

        let messaging = first.app.messaging();
        for chunk in 0..MESSAGES / 500 {
            let txn = first.app.db().begin().await.unwrap();
            for i in 0..500 {
                let n = chunk * 500 + i;
                let message =
                    login_code(&format!("+86138{n:08}"), &format!("{:06}", n % 1_000_000), format!("scale:{n}"));
                messaging.queue(&txn, message).await.unwrap();
            }
            txn.commit().await.unwrap();
        }

        let started = Instant::now();
        // Each server closes its pool when it stops, so the counts are read before that.
        let servers = [first.serve().await, second.serve().await];
        while gateway.accepted().len() < MESSAGES {
            assert!(started.elapsed() < Duration::from_mins(3), "only {} sent", gateway.accepted().len());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Anything sent twice would arrive by now.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(gateway.accepted().len(), MESSAGES);
        assert_eq!(gateway.duplicates(), 0);
        assert_eq!(gateway.bad_signatures(), 0);
        let accepted = outbound_message::Entity::find()
            .filter(outbound_message::Column::Status.eq(Status::Accepted))
            .count(first.app.db())
            .await
            .unwrap();
        assert_eq!(accepted, MESSAGES as u64);
        for server in servers {
            server.stop().await.unwrap();
        }
    }))
    .await;
}
