//! Start-up as a library function: build the app from settings, then serve it on a listener
//! until a shutdown future resolves. `main` only wires signals; tests start real servers on
//! port 0 and stop them.

use std::future::Future;
use std::sync::Arc;

use anyhow::Context;
use sea_orm::DatabaseConnection;
use tokio::net::TcpListener;

use crate::auth::Tokens;
use crate::config::Settings;
use crate::graphql::{self, RegistrySchema};
use crate::http::{self, AppState};
use crate::messaging::{Messaging, ReplyHandler};
use crate::metrics::Metrics;
use crate::pii::KeyRing;
use crate::service::letters::LetterFont;
use crate::service::retention::CampaignReply;
use crate::service::volunteer::StatusLog;
use crate::service::{Services, StaffService};

/// A built service: its database pool, schema and metrics.
#[derive(Clone, Debug)]
pub struct App {
    state: AppState,
}

impl App {
    /// Loads keys, connects, migrates unless told not to, and assembles the schema.
    ///
    /// # Errors
    /// Unusable keys, an unreachable database, or a failed migration.
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let keys = KeyRing::load(&settings).context("loading personal-data keys")?;
        keys.announce();
        let metrics = Arc::new(Metrics::new());
        if settings.database.migrate_on_start {
            // Boxed: it holds a copy of the settings across its awaits.
            Box::pin(crate::db::migrate_apart(&settings, &metrics)).await.context("applying migrations")?;
        }
        let db = crate::db::connect(&settings, Arc::clone(&metrics)).await.context("connecting to the database")?;
        if settings.database.migrate_on_start && crate::db::in_memory(&settings) {
            crate::db::migrate(&db).await.context("applying migrations")?;
        }
        let tokens = Arc::new(Tokens::new(&keys.token_signing.0, &settings.auth));
        let keys = Arc::new(keys);
        let replies: Vec<Arc<dyn ReplyHandler>> = vec![Arc::new(CampaignReply::new(StatusLog::new(Arc::clone(&keys))))];
        let messaging =
            Messaging::new(db.clone(), Arc::clone(&keys), settings.messaging.clone(), Arc::clone(&metrics), replies)
                .context("configuring messaging")?;
        let services = Services::new(
            db.clone(),
            keys,
            Arc::clone(&tokens),
            messaging,
            &settings,
            LetterFont::load(&settings.letters).context("loading the leave letters' font")?,
        );
        let schema = graphql::build(&settings, services.clone(), Arc::clone(&metrics));
        Ok(Self { state: AppState { schema, db, services, tokens, metrics, settings: Arc::new(settings) } })
    }

    #[must_use]
    pub fn schema(&self) -> &RegistrySchema {
        &self.state.schema
    }

    #[must_use]
    pub fn db(&self) -> &DatabaseConnection {
        &self.state.db
    }

    /// The access-token signer and verifier.
    #[must_use]
    pub fn tokens(&self) -> &Tokens {
        &self.state.tokens
    }

    /// Every service, for tools and tests that act below the transport.
    #[must_use]
    pub fn services(&self) -> &Services {
        &self.state.services
    }

    /// Staff accounts and sessions.
    #[must_use]
    pub fn staff(&self) -> &StaffService {
        &self.state.services.staff
    }

    #[must_use]
    pub fn messaging(&self) -> &Messaging {
        &self.state.services.messaging
    }

    #[must_use]
    pub fn metrics(&self) -> &Metrics {
        &self.state.metrics
    }

    #[must_use]
    pub fn settings(&self) -> &Settings {
        &self.state.settings
    }

    /// Serves, with this process's background workers (every queue and periodic task of
    /// [`crate::jobs::Jobs`]), until `shutdown` resolves; then stops accepting, stops the
    /// workers claiming, lets requests and work in flight finish within the configured grace
    /// period, and closes the pool.
    ///
    /// # Errors
    /// The listener failed.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grace = self.state.settings.http.shutdown_grace();
        let (stop_workers, workers_stop) = tokio::sync::watch::channel(false);
        let mut workers = self.state.services.jobs.start(&workers_stop);
        let db = self.state.db.clone();
        let limits = http::server::Limits { header_read: self.state.settings.http.header_read_timeout(), grace };
        let router = http::router(self.state);
        if !http::server::serve(listener, router, limits, shutdown).await {
            tracing::warn!(
                grace_ms = grace.as_millis(),
                "requests still in flight after the grace period were dropped"
            );
        }
        let _ = stop_workers.send(true);
        let drained = tokio::time::timeout(grace, async { while workers.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!("background workers still busy after the grace period were stopped");
            workers.abort_all();
        }
        db.close_by_ref().await.context("closing the database pool")?;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
}
