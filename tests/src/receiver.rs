//! A hospital's webhook receiver on a real loopback HTTP server, verifying every delivery with
//! the Standard Webhooks reference library (`standardwebhooks`), which we did not write.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::desk::Desk;

/// One webhook as the receiver saw it.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: Bytes,
    pub at: Instant,
    /// Verified by the reference library and answered 2xx.
    pub accepted: bool,
}

/// A hospital's webhook receiver on loopback: it fails the first `fail_first` tries (or all,
/// while `down`), and otherwise verifies the signature with `standardwebhooks`.
#[derive(Clone, Default)]
#[allow(missing_debug_implementations)] // a test server's shared state
pub struct Receiver {
    secret: Arc<Mutex<Option<String>>>,
    received: Arc<Mutex<Vec<Received>>>,
    pub fail_first: Arc<AtomicUsize>,
    pub down: Arc<AtomicBool>,
}

impl Receiver {
    pub async fn start() -> (Self, String) {
        let receiver = Self::default();
        let app = axum::Router::new().route("/hooks", axum::routing::post(receive)).with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (receiver, url)
    }

    pub fn set_secret(&self, secret: &str) {
        *self.secret.lock().unwrap() = Some(secret.to_owned());
    }

    #[must_use]
    pub fn all(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    #[must_use]
    pub fn accepted(&self) -> Vec<Value> {
        self.all().iter().filter(|got| got.accepted).map(|got| serde_json::from_slice(&got.body).unwrap()).collect()
    }

    /// Waits until `count` webhooks were accepted.
    pub async fn wait_for(&self, count: usize) -> Vec<Value> {
        for _ in 0..200 {
            if self.accepted().len() >= count {
                return self.accepted();
            }
            tokio::time::sleep(StdDuration::from_millis(50)).await;
        }
        panic!("the receiver accepted {} webhooks, not {count}", self.accepted().len());
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let failing = receiver.down.load(Ordering::SeqCst)
        || receiver.fail_first.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    let verified = !failing
        && receiver
            .secret
            .lock()
            .unwrap()
            .as_deref()
            .is_some_and(|secret| standardwebhooks::Webhook::new(secret).unwrap().verify(&body, &headers).is_ok());
    receiver.received.lock().unwrap().push(Received { headers, body, at: Instant::now(), accepted: verified });
    match (failing, verified) {
        (true, _) => StatusCode::SERVICE_UNAVAILABLE,
        (false, true) => StatusCode::NO_CONTENT,
        (false, false) => StatusCode::BAD_REQUEST,
    }
}

/// A hospital's endpoint on the receiver, registered through its contract document.
pub async fn register(hospital: &Desk<'_>, receiver: &Receiver, url: &str) -> String {
    let registered =
        hospital.call("RegisterWebhookEndpoint", json!({ "idempotencyKey": "endpoint-1", "url": url })).await;
    let secret = registered["registerWebhookEndpoint"]["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    receiver.set_secret(&secret);
    secret
}
