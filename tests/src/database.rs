//! Fresh databases per test, on both backends.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use sea_orm::{ConnectionTrait, Database};

use crate::TestApp;
use api::config::Settings;

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// One test's database. Cheap to clone; apps built from it share the database.
#[derive(Clone, Debug)]
pub struct TestDb {
    backend: Backend,
    dir: Arc<tempfile::TempDir>,
    postgres: Option<PostgresDb>,
}

#[derive(Clone, Debug)]
struct PostgresDb {
    admin_url: String,
    name: String,
}

impl PostgresDb {
    /// The admin URL split around its host: `("postgres://user@", "host:port")`.
    fn parts(&self) -> (&str, &str) {
        let (base, _) = self.admin_url.rsplit_once('/').expect("the admin URL names a database");
        let split = base.rfind('@').map_or("postgres://".len(), |at| at + 1);
        base.split_at(split)
    }

    /// The URL of this test's database, through `host_port` when given (a proxy).
    fn url(&self, host_port: Option<&str>) -> String {
        let (prefix, host) = self.parts();
        format!("{prefix}{}/{}", host_port.unwrap_or(host), self.name)
    }
}

impl TestDb {
    #[must_use]
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Settings of an app over this database: development profile, its own data directory.
    #[must_use]
    pub fn settings(&self) -> Settings {
        let mut settings = Settings { data_dir: self.dir.path().to_owned(), ..Settings::default() };
        settings.database.url = self.postgres.as_ref().map(|pg| pg.url(None).into());
        settings
    }

    /// Settings that reach PostgreSQL through `host_port` (a [`crate::TcpProxy`]).
    #[must_use]
    pub fn settings_via(&self, host_port: &str) -> Settings {
        let mut settings = self.settings();
        settings.database.url = self.postgres.as_ref().map(|pg| pg.url(Some(host_port)).into());
        settings
    }

    /// The upstream `host:port` of the PostgreSQL server.
    #[must_use]
    pub fn postgres_host_port(&self) -> Option<String> {
        let (_, host) = self.postgres.as_ref()?.parts();
        Some(if host.contains(':') { host.to_owned() } else { format!("{host}:5432") })
    }

    pub async fn app(&self) -> TestApp {
        self.app_with(|_| {}).await
    }

    pub async fn app_with(&self, configure: impl FnOnce(&mut Settings)) -> TestApp {
        let mut settings = self.settings();
        configure(&mut settings);
        TestApp { app: Box::new(api::App::build(settings).await.expect("the app builds over the test database")) }
    }

    async fn create(backend: Backend) -> Option<Self> {
        let dir = Arc::new(tempfile::tempdir().expect("a temporary directory"));
        let postgres = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(create_postgres().await?),
        };
        Some(Self { backend, dir, postgres })
    }

    async fn drop_database(&self) {
        if let Some(pg) = &self.postgres {
            let admin = Database::connect(pg.admin_url.as_str()).await.expect("PostgreSQL admin connection");
            admin
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", pg.name))
                .await
                .expect("dropping the test database");
            let _ = admin.close().await;
        }
    }
}

async fn create_postgres() -> Option<PostgresDb> {
    if std::env::var("TEST_POSTGRES").is_ok_and(|value| value == "skip") {
        assert!(
            std::env::var_os("CI").is_none(),
            "TEST_POSTGRES=skip is refused under CI: the PostgreSQL tests must run"
        );
        eprintln!("SKIPPED: PostgreSQL half of this test (TEST_POSTGRES=skip)");
        return None;
    }
    let admin_url = std::env::var("TEST_DATABASE_ADMIN_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
    let admin = Database::connect(admin_url.as_str()).await.unwrap_or_else(|err| {
        panic!("PostgreSQL is not reachable at TEST_DATABASE_ADMIN_URL ({err}); start it, or set TEST_POSTGRES=skip outside CI")
    });
    let name = format!("registry_test_{}", uuid::Uuid::new_v4().simple());
    admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await.expect("creating the test database");
    let _ = admin.close().await;
    Some(PostgresDb { admin_url, name })
}

/// Runs `test` over a fresh database of `backend`, then drops the database, also on panic.
pub async fn run<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestDb) -> Fut,
    Fut: Future<Output = ()>,
{
    crate::logging::capture();
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let outcome = AssertUnwindSafe(test(db.clone())).catch_unwind().await;
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
