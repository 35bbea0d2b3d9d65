//! SIGTERM on the real binary: requests in flight finish, and the process exits 0.
//!
//! This lives beside the binary because Cargo gives only a package's own tests the path of its
//! executables; every other integration test is in the `tests` crate.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report
#![cfg(unix)]

use std::net::TcpListener as StdListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn wait_until_serving(port: u16) {
    let started = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(started.elapsed() < Duration::from_secs(30), "the service did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn sigterm_lets_requests_in_flight_finish_and_exits_zero() {
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut service = Command::new(env!("CARGO_BIN_EXE_registry-api"))
        .env_clear()
        .env("REGISTRY_DATA_DIR", data.path())
        .env("REGISTRY_HTTP__ADDR", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_until_serving(port).await;

    let body = br#"{"query":"{ branches { code } }"}"#;
    let (first, rest) = body.split_at(10);
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nhost: registry\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(first).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let killed = Command::new("kill").args(["-TERM", &service.id().to_string()]).status().unwrap();
    assert!(killed.success());
    tokio::time::sleep(Duration::from_millis(300)).await;

    stream.write_all(rest).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"code\":\"51\""), "{response}");

    let started = Instant::now();
    let status = loop {
        if let Some(status) = service.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the service did not exit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(0));
}
