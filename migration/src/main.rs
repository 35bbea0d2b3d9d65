//! `migration [up | down | status | fresh | ...]`: DDL as a separate deployment step.
//!
//! The database is `DATABASE_URL`, else the service's own `REGISTRY_DATABASE__URL`, else the
//! service's embedded default, so one environment configures both the service and its migrations.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectOptions, Database};

/// The service's embedded default (see `api::config`): a SQLite file under `./data/`.
const EMBEDDED_DEFAULT: &str = "sqlite://data/registry.db?mode=rwc";

#[tokio::main]
async fn main() {
    cli::run_cli_with_custom_connection(migration::Migrator, async || {
        let url = ["DATABASE_URL", "REGISTRY_DATABASE__URL"]
            .into_iter()
            .find_map(|name| std::env::var(name).ok())
            .unwrap_or_else(|| EMBEDDED_DEFAULT.to_owned());
        if url.starts_with("sqlite:") {
            std::fs::create_dir_all("data").map_err(|err| DbErr::Custom(err.to_string()))?;
        }
        Database::connect(ConnectOptions::new(url)).await
    })
    .await;
}
