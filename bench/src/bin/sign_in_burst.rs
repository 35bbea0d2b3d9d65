//! A burst of sign-ins, as a recruitment drive or a campaign asking a thousand people to open
//! the app produces: `--volunteers` (200) `SignInWithCode` requests sent at the same moment
//! through the real server, against as many simultaneous `Home` queries by the volunteers just
//! signed in. A sign-in writes (the code spent, a session, an audit row) where the home screen
//! only reads, so the ratio says what the writes cost under contention; before the one way to
//! write, a transaction waiting on a second pooled connection made such bursts fail outright.
//!
//! ```text
//! cargo run --release -p bench --bin sign_in_burst -- [--volunteers 200] [--rounds 3]
//! ```
//!
//! Each round runs on PostgreSQL (from `TEST_DATABASE_ADMIN_URL`, a fresh database) and on
//! the embedded SQLite default, with the default pool of 16 connections.

#![allow(clippy::print_stdout, clippy::cast_precision_loss, clippy::unwrap_used, clippy::expect_used)] // a report

use std::time::{Duration, Instant};

use bench::{arg, percentile};
use futures::future::join_all;
use registry_tests::mobile::document;
use registry_tests::{Backend, Server, TestApp, run};
use serde_json::{Value, json};

#[tokio::main]
async fn main() {
    let volunteers = u32::try_from(arg("volunteers", 200)).unwrap();
    let rounds = arg("rounds", 3);
    println!("{volunteers} simultaneous requests through the real server, pool of 16; median of {rounds} rounds");
    for backend in [Backend::Postgres, Backend::Sqlite] {
        run(backend, move |db| async move {
            let app = db
                .app_with(|settings| {
                    settings.auth.volunteer_codes.resend_after_secs = 0;
                    settings.auth.volunteer_codes.per_phone_per_hour = 1_000;
                    settings.auth.volunteer_codes.per_address_per_hour = 1_000_000;
                })
                .await;
            let server = app.serve().await;
            let mut phones = Vec::new();
            for n in 0..volunteers {
                phones.push(app.register_volunteer(20_000 + n, "51").await.phone);
            }
            let (mut sign_ins, mut homes) = (Vec::new(), Vec::new());
            for _ in 0..rounds {
                let (burst, tokens) = sign_in_burst(&app, &server, &phones).await;
                sign_ins.push(burst);
                homes.push(home_burst(&server, &tokens).await);
            }
            let (sign_in, home) = (median(sign_ins), median(homes));
            println!("{backend:?}");
            println!("  home queries:  {:>7.0} req/s   p95 {:>6.1} ms", home.per_second, home.p95_ms);
            println!(
                "  sign-ins:      {:>7.0} req/s   p95 {:>6.1} ms   throughput ratio to home {:.2}",
                sign_in.per_second,
                sign_in.p95_ms,
                sign_in.per_second / home.per_second
            );
            server.stop().await.unwrap();
        })
        .await;
    }
}

#[derive(Clone, Copy, Debug)]
struct Burst {
    per_second: f64,
    p95_ms: f64,
}

fn median(mut runs: Vec<Burst>) -> Burst {
    runs.sort_by(|a, b| a.per_second.total_cmp(&b.per_second));
    runs[runs.len() / 2]
}

/// Codes for every phone (untimed), then every sign-in at once; returns the burst and tokens.
async fn sign_in_burst(app: &TestApp, server: &Server, phones: &[String]) -> (Burst, Vec<String>) {
    let mut codes = Vec::new();
    for phone in phones {
        let (_, body) = server.gql(None, &document("RequestSignInCode"), json!({ "phone": phone })).await;
        assert!(body.get("errors").is_none(), "{body}");
        codes.push(app.latest_code(phone).await.unwrap());
    }
    let query = document("SignInWithCode");
    let (burst, bodies) = burst(phones.iter().zip(&codes).map(|(phone, code)| {
        let query = &query;
        async move { server.gql(None, query, json!({ "phone": phone, "code": code })).await.1 }
    }))
    .await;
    let tokens = bodies
        .iter()
        .map(|body| {
            body["data"]["signInWithCode"]["session"]["accessToken"]
                .as_str()
                .unwrap_or_else(|| panic!("every sign-in succeeds: {body}"))
                .to_owned()
        })
        .collect();
    (burst, tokens)
}

async fn home_burst(server: &Server, tokens: &[String]) -> Burst {
    let query = document("Home");
    let (burst, bodies) = burst(tokens.iter().map(|token| {
        let query = &query;
        async move { server.gql(Some(token), query, json!({})).await.1 }
    }))
    .await;
    for body in &bodies {
        assert!(body.get("errors").is_none(), "{body}");
    }
    burst
}

/// Sends every request at once; the rate is requests over the time until the last answer.
async fn burst(requests: impl Iterator<Item = impl Future<Output = Value>>) -> (Burst, Vec<Value>) {
    let started = Instant::now();
    let timed = join_all(requests.map(|request| async move {
        let sent = Instant::now();
        let body = request.await;
        (sent.elapsed(), body)
    }))
    .await;
    let total = started.elapsed();
    let mut latencies: Vec<Duration> = timed.iter().map(|(took, _)| *took).collect();
    latencies.sort();
    let burst = Burst { per_second: latencies.len() as f64 / total.as_secs_f64(), p95_ms: percentile(&latencies, 95) };
    (burst, timed.into_iter().map(|(_, body)| body).collect())
}
