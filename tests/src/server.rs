//! A real server on a loopback port, for transport tests.

use std::net::SocketAddr;

use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running server. Dropping it stops it.
#[derive(Debug)]
pub struct Server {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<anyhow::Result<()>>>,
}

pub const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

impl Server {
    pub(crate) async fn start(app: api::App) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        Self::start_on(app, listener)
    }

    /// Serves on a listener the test bound first, for settings that must know the address
    /// (the public address printed on leave letters).
    pub(crate) fn start_on(app: api::App, listener: tokio::net::TcpListener) -> Self {
        let addr = listener.local_addr().expect("bound address");
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        Self { addr, client: reqwest::Client::new(), stop: Some(stop), handle: Some(handle) }
    }

    #[must_use]
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a JSON body to `/graphql`, accepting the spec's media type as the mobile app does.
    pub async fn graphql(&self, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url("/graphql"))
            .header("accept", GRAPHQL_RESPONSE)
            .json(body)
            .send()
            .await
            .expect("the server answers")
    }

    /// POSTs an operation with variables, with a bearer token when given, as the mobile app and
    /// partners do; returns status and JSON body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .header("accept", GRAPHQL_RESPONSE)
            .json(&serde_json::json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let response = request.send().await.expect("the server answers");
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// POSTs a query and returns status and JSON body.
    pub async fn query(&self, query: &str) -> (u16, Value) {
        let response = self.graphql(&serde_json::json!({ "query": query })).await;
        let status = response.status().as_u16();
        (status, response.json().await.expect("a JSON body"))
    }

    /// Signals shutdown and waits for the server to finish its requests and exit.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        self.signal_stop();
        match self.handle.take() {
            Some(handle) => handle.await?,
            None => Ok(()),
        }
    }

    /// Signals shutdown without waiting.
    pub fn signal_stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }

    /// Waits for the server task after [`Server::signal_stop`].
    pub async fn finished(mut self) -> anyhow::Result<()> {
        match self.handle.take() {
            Some(handle) => handle.await?,
            None => Ok(()),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.signal_stop();
    }
}
