//! Readiness through a database outage, and graceful shutdown with requests in flight.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::time::{Duration, Instant};

use registry_tests::{Backend, TcpProxy, both_backends, run};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn wait_for_status(client: &reqwest::Client, url: &str, want: u16) -> Duration {
    let started = Instant::now();
    loop {
        let status = client
            .get(url)
            .send()
            .await
            .map_or(0, |r| r.status().as_u16());
        if status == want {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{url} never answered {want} (last {status})"
        );
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
        let live = server
            .client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            live.status(),
            200,
            "the process stays alive while the database is away"
        );
        let (status, body) = server.query("{ branches { code } }").await;
        assert!(status == 200 || status == 503, "{status} {body}");
        assert!(
            body["errors"][0]["extensions"]["code"] == "SERVICE_UNAVAILABLE"
                || body["errors"][0]["extensions"]["code"] == "INTERNAL",
            "{body}"
        );

        proxy.restore().await;
        wait_for_status(&server.client, &ready, 200).await;
        let (status, body) = server.query("{ branches { code } }").await;
        assert_eq!(status, 200);
        assert_eq!(body["data"]["branches"].as_array().unwrap().len(), 31);
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
