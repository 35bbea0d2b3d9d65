//! The integration-test harness.
//!
//! Every test gets a fresh database: a SQLite file in a temporary directory, and a uniquely
//! named PostgreSQL database created from `TEST_DATABASE_ADMIN_URL` (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), migrated by the app, and dropped afterwards
//! even when the test panics. `TEST_POSTGRES=skip` skips the PostgreSQL half on a machine
//! without it, loudly, and is refused under CI.
//!
//! Two tiers: [`TestApp::execute`] runs an operation in-process through the schema, and
//! [`TestApp::serve`] starts the real HTTP server on port 0.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::missing_panics_doc)] // a panic is a test failure

mod database;
pub mod gateway;
mod proxy;
mod server;

use std::future::Future;

pub use api::config::{Profile, Settings};
pub use database::{Backend, TestDb, run};
pub use proxy::TcpProxy;
pub use server::Server;

/// Declares each test twice, as `<name>::sqlite` and `<name>::postgres`.
///
/// ```text
/// both_backends! {
///     async fn lists_branches(db) {
///         let app = db.app().await;
///         // ...
///     }
/// }
/// ```
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($db:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::run($crate::Backend::Sqlite, |$db: $crate::TestDb| async move $body).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::run($crate::Backend::Postgres, |$db: $crate::TestDb| async move $body).await;
            }
        }
    )*};
}

/// A built app over a test database.
#[derive(Clone, Debug)]
pub struct TestApp {
    pub app: api::App,
}

impl TestApp {
    /// Runs an operation in-process, as an anonymous caller.
    pub async fn execute(&self, query: &str) -> async_graphql::Response {
        self.execute_request(async_graphql::Request::new(query)).await
    }

    pub async fn execute_request(&self, request: async_graphql::Request) -> async_graphql::Response {
        self.execute_as(api::service::Principal::Anonymous, request).await
    }

    /// Runs an operation in-process as `principal`, as the HTTP handler would after checking
    /// its token.
    pub async fn execute_as(
        &self,
        principal: api::service::Principal,
        request: impl Into<async_graphql::Request>,
    ) -> async_graphql::Response {
        self.app.schema().execute(request.into().data(principal)).await
    }

    /// Runs `work` and counts the SQL statements the app ran meanwhile.
    pub async fn count_statements<T>(&self, work: impl Future<Output = T>) -> (T, u64) {
        let before = self.app.metrics().statements();
        let out = work.await;
        (out, self.app.metrics().statements() - before)
    }

    /// Starts the HTTP server on a free loopback port.
    pub async fn serve(&self) -> Server {
        Server::start(self.app.clone()).await
    }
}

/// The `extensions.code` of each error of a response.
#[must_use]
pub fn error_codes(response: &serde_json::Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|err| err["extensions"]["code"].as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
