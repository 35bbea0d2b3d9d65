//! Webhook delivery throughput: events per second from the PostgreSQL job table to a loopback
//! receiver, through the job engine's claims (`webhooks.deliver`: claim, read the event and the
//! endpoint, open the secret, sign, post, record), side by side with the ceiling of the same
//! HTTP client posting the same signed body straight to the same receiver, at the same
//! concurrency. As `delivery` does for SMS.
//!
//! ```text
//! cargo run --release -p bench --bin webhooks -- [--events 5000] [--workers 4]
//! ```
//!
//! PostgreSQL comes from `TEST_DATABASE_ADMIN_URL`, as in the tests; each run gets a fresh
//! database and drops it.

#![allow(clippy::print_stdout, clippy::cast_precision_loss, clippy::unwrap_used, clippy::expect_used)] // a report

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use api::service::webhooks::EventType;
use api::service::{NewHospital, Principal, StaffRole};
use bench::arg;
use futures::StreamExt;
use registry_tests::{Backend, run};
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let events = arg("events", 5_000);
    let workers = arg("workers", 4);
    run(Backend::Postgres, move |db| async move {
        let (received, url) = receiver().await;
        let app = db
            .app_with(|settings| {
                settings.webhooks.allow_private_network = Some(true);
                settings.database.max_connections = 32;
            })
            .await;
        let services = app.app.services();
        let admin = Principal::Staff { id: Uuid::now_v7(), role: StaffRole::NationalAdmin, branch: "11".into() };
        let new = NewHospital {
            name: "基准医院".into(),
            branch_code: "51".into(),
            contact_name: "王".into(),
            contact_phone: "13800000001".into(),
        };
        let hospital = services.hospitals.register(&admin.national_admin().unwrap(), &admin, new, None).await.unwrap();
        let caller = Principal::Hospital { id: hospital.id, branch: "51".into() };
        let partner = caller.partner_hospital().unwrap();
        let issued = services.webhooks.register(&partner, &caller, "bench", url.clone(), None).await.unwrap();

        let mut rows = Vec::new();
        for concurrency in [1, workers] {
            queue(&app, hospital.id, events).await;
            let before = received.load(Ordering::SeqCst);
            let started = Instant::now();
            let delivered: u64 = futures::future::join_all(
                (0..concurrency).map(|n| async move { services.webhooks.deliver_due(&format!("bench-{n}")).await.unwrap() }),
            )
            .await
            .into_iter()
            .sum();
            let engine = events as f64 / started.elapsed().as_secs_f64();
            assert_eq!(usize::try_from(delivered).unwrap(), events);
            assert_eq!(received.load(Ordering::SeqCst) - before, events, "each event reached the receiver once");
            let ceiling = ceiling(&url, &issued.secret, events, concurrency).await;
            rows.push((concurrency, engine, ceiling));
        }
        println!("webhook delivery to a loopback receiver: {events} events per run, PostgreSQL");
        for (concurrency, engine, ceiling) in rows {
            println!(
                "  {concurrency} worker(s): job engine {engine:>7.0} ev/s   same client straight {ceiling:>7.0} ev/s   ratio {:.2}",
                engine / ceiling
            );
        }
        println!("  peak RSS of this process: {} MiB", bench::peak_rss_mib());
    })
    .await;
}

/// A receiver that answers 204 to everything and counts what it got.
async fn receiver() -> (Arc<AtomicUsize>, String) {
    let count = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&count);
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move || {
            let counted = Arc::clone(&counted);
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (count, url)
}

/// Writes `events` events with their deliveries and jobs (not timed), as a change would.
async fn queue(app: &registry_tests::TestApp, hospital: Uuid, events: usize) {
    let webhooks = &app.app.services().webhooks;
    futures::stream::iter(0..events)
        .map(|n| async move {
            let data = serde_json::json!({ "admissionRequestId": Uuid::now_v7().to_string(), "status": "requested", "version": n });
            webhooks.emit(app.app.db(), hospital, "51", EventType::AdmissionRequested, data).await.unwrap();
        })
        .buffer_unordered(16)
        .for_each(|()| async {})
        .await;
}

/// The same client posting a signed event straight to the receiver, `concurrency` at a time.
async fn ceiling(url: &str, secret: &str, events: usize, concurrency: usize) -> f64 {
    let client = reqwest::Client::builder().timeout(std::time::Duration::from_secs(10)).build().unwrap();
    let body = serde_json::json!({
        "type": "admission.requested",
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "data": { "admissionRequestId": Uuid::now_v7().to_string(), "status": "requested", "version": 1 },
    })
    .to_string();
    let started = Instant::now();
    futures::stream::iter(0..events)
        .map(|_| {
            let id = format!("msg_{}", Uuid::now_v7().simple());
            let timestamp = chrono::Utc::now().timestamp();
            let signature = api::service::webhooks::sign(secret, &id, timestamp, &body).unwrap();
            client
                .post(url)
                .header("content-type", "application/json")
                .header("webhook-id", id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(body.clone())
                .send()
        })
        .buffer_unordered(concurrency)
        .for_each(|response| async move {
            assert!(response.unwrap().status().is_success());
        })
        .await;
    events as f64 / started.elapsed().as_secs_f64()
}
