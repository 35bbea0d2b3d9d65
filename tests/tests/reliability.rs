//! Readiness through a database outage, and graceful shutdown with requests in flight.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report
#![allow(clippy::disallowed_methods)] // a test holds a raw transaction to play a lock held elsewhere

use std::time::{Duration, Instant};

use registry_tests::{Backend, TcpProxy, both_backends, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn wait_for_status(client: &reqwest::Client, url: &str, want: u16) -> Duration {
    let started = Instant::now();
    loop {
        let status = client.get(url).send().await.map_or(0, |r| r.status().as_u16());
        if status == want {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(15), "{url} never answered {want} (last {status})");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_a_postgres_outage_without_a_restart() {
    run(Backend::Postgres, |db| async move {
        let proxy = TcpProxy::start(&db.postgres_host_port().unwrap()).await;
        let via = db.settings_via(&proxy.host_port());
        let server = db.app_with(|s| *s = via).await.serve().await;
        let ready = server.url("/readyz");
        wait_for_status(&server.client, &ready, 200).await;

        proxy.cut();
        wait_for_status(&server.client, &ready, 503).await;
        let live = server.client.get(server.url("/healthz")).send().await.unwrap();
        assert_eq!(live.status(), 200, "the process stays alive while the database is away");
        let (status, body) = server.query("{ branches { code } }").await;
        assert!(status == 200 || status == 503, "{status} {body}");
        assert_eq!(body["errors"][0]["extensions"]["code"], "SERVICE_UNAVAILABLE", "{body}");
        assert_eq!(body["errors"][0]["extensions"]["retryAfterSeconds"], 1, "{body}");

        proxy.restore().await;
        wait_for_status(&server.client, &ready, 200).await;
        let (status, body) = server.query("{ branches { code } }").await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["branches"].as_array().unwrap().len(), 31);
    })
    .await;
}

/// PostgreSQL cut away and back under load from signed-in volunteers: every answer is a
/// success or SERVICE_UNAVAILABLE, nothing acknowledged is lost, and service resumes unaided.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_outage_under_load_answers_503_and_loses_nothing_acknowledged() {
    use registry_tests::mobile::document;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    use serde_json::json;

    run(Backend::Postgres, |db| async move {
        let proxy = TcpProxy::start(&db.postgres_host_port().unwrap()).await;
        // A pooled connection is waited for 1 s: an outage longer than that is seen by the
        // requests that need one (a shorter one is ridden through, as sqlx retries the connect).
        let mut via = db.settings_via(&proxy.host_port());
        via.database.acquire_timeout_ms = 1_000;
        let app = db.app_with(|s| *s = via).await;
        let server = app.serve().await;
        let volunteers: Vec<_> = registry_tests::mobile::signed_in_volunteers(&app, &server, 7_000, 8)
            .await
            .into_iter()
            .map(|(registered, token)| (registered.id, token))
            .collect();

        let started = Instant::now();
        let clients = volunteers.iter().map(|(id, token)| {
            let server = &server;
            async move {
                let mut answers = Vec::new();
                let mut acknowledged = 0u64;
                let mut round = 0u32;
                let mut writes = 0u32;
                while started.elapsed() < Duration::from_secs(6) {
                    round += 1;
                    // At most 8 writes each: a write that committed but whose answer was lost
                    // still counts against the 10 family members a volunteer may list.
                    let write = round.is_multiple_of(3) && writes < 8;
                    writes += u32::from(write);
                    let (name, variables) = if write {
                        (
                            "RecordFamilyMember",
                            json!({ "input": { "relationship": "PARENT", "name": "王芳", "stance": "SUPPORTIVE" } }),
                        )
                    } else {
                        ("Home", json!({}))
                    };
                    let response = server
                        .client
                        .post(server.url("/graphql"))
                        .header("accept", "application/graphql-response+json")
                        .header("authorization", format!("Bearer {token}"))
                        .json(&json!({ "query": document(name), "variables": variables }))
                        .send()
                        .await
                        .expect("the server itself stays up");
                    let status = response.status().as_u16();
                    let body: serde_json::Value = response.json().await.expect("every answer has a GraphQL body");
                    let codes = registry_tests::error_codes(&body);
                    if name == "RecordFamilyMember" && codes.is_empty() {
                        acknowledged += 1;
                    }
                    answers.push((name, status, codes));
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                (*id, acknowledged, answers)
            }
        });
        let outage = async {
            tokio::time::sleep(Duration::from_millis(1_500)).await;
            proxy.cut();
            tokio::time::sleep(Duration::from_millis(2_500)).await;
            proxy.restore().await;
        };
        let (results, ()) = tokio::join!(futures::future::join_all(clients), outage);

        let mut unavailable = 0;
        for (_, _, answers) in &results {
            for (name, status, codes) in answers {
                if codes.is_empty() {
                    assert_eq!(*status, 200, "{name}");
                } else {
                    // One error per root field that met the outage (Home has two).
                    assert!(
                        codes.iter().all(|code| code == "SERVICE_UNAVAILABLE"),
                        "{name} answered {status} {codes:?}"
                    );
                    assert!(*status == 503 || *status == 200, "{name}: {status}");
                    unavailable += 1;
                }
            }
        }
        assert!(unavailable > 0, "the outage was seen");
        for (id, acknowledged, answers) in &results {
            let kept = entity::family_member::Entity::find()
                .filter(entity::family_member::Column::VolunteerId.eq(*id))
                .count(app.app.db())
                .await
                .unwrap();
            assert!(kept >= *acknowledged, "{kept} rows kept of {acknowledged} acknowledged");
            let (_, status, codes) = answers.last().unwrap();
            assert!(codes.is_empty() && *status == 200, "service resumed by the end: {status} {codes:?}");
        }
    })
    .await;
}

both_backends! {
    async fn shutdown_lets_a_request_in_flight_finish(db) {
        let mut server = db.app().await.serve().await;
        let body = br#"{"query":"{ branches { code } }"}"#;
        let (first, rest) = body.split_at(10);
        let mut stream = tokio::net::TcpStream::connect(server.addr).await.unwrap();
        let head = format!(
            "POST /graphql HTTP/1.1\r\nhost: registry\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(first).await.unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;

        server.signal_stop();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(tokio::net::TcpStream::connect(server.addr).await.is_err(), "no new connections after the signal");

        stream.write_all(rest).await.unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).await.unwrap();
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.contains("\"branches\""), "{response}");
        server.finished().await.unwrap();
    }
}

/// Holds an exclusive lock on `branch` from another session, so reads of it block.
async fn lock_branches(db: &registry_tests::TestDb) -> sea_orm::DatabaseTransaction {
    use sea_orm::{ConnectionTrait, TransactionTrait};
    let url = db.settings().database_url();
    let other = sea_orm::Database::connect(secrecy::ExposeSecret::expose_secret(&url)).await.unwrap();
    let tx = other.begin().await.unwrap();
    tx.execute_unprepared("LOCK TABLE branch IN ACCESS EXCLUSIVE MODE").await.unwrap();
    tx
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_is_stopped_with_a_clear_error_and_frees_its_connection() {
    run(Backend::Postgres, |db| async move {
        let server = db
            .app_with(|s| {
                s.http.request_timeout_ms = 500;
                s.database.max_connections = 1;
            })
            .await
            .serve()
            .await;
        let lock = lock_branches(&db).await;
        let started = Instant::now();
        let (status, body) = server.query("{ branches { code } }").await;
        assert_eq!(status, 503, "{body}");
        assert_eq!(registry_tests::error_codes(&body), ["SERVICE_UNAVAILABLE"]);
        assert!(started.elapsed() < Duration::from_secs(3));
        lock.rollback().await.unwrap();
        // The only pooled connection is usable again.
        let (status, body) = server.query("{ branches { code } }").await;
        assert_eq!(status, 200, "{body}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_statement_over_the_database_timeout_is_service_unavailable() {
    run(Backend::Postgres, |db| async move {
        let server = db.app_with(|s| s.database.statement_timeout_ms = 300).await.serve().await;
        let lock = lock_branches(&db).await;
        let (status, body) = server.query("{ branches { code } }").await;
        assert_eq!(status, 200, "a field error is an execution result: {body}");
        assert_eq!(registry_tests::error_codes(&body), ["SERVICE_UNAVAILABLE"]);
        lock.rollback().await.unwrap();
        let (_, body) = server.query("{ branches { code } }").await;
        assert_eq!(body["data"]["branches"].as_array().unwrap().len(), 31);
    })
    .await;
}
