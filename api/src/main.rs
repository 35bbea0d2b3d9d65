//! `registry-api`: configuration, telemetry, then serve until Ctrl-C or SIGTERM.

use std::process::ExitCode;

use api::config::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(err) => {
            eprintln!("registry-api: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(err) = api::telemetry::init(&settings.log) {
        eprintln!("registry-api: cannot start logging: {err}");
        return ExitCode::FAILURE;
    }
    match run(settings).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = format!("{err:#}"), "registry-api stopped on an error");
            ExitCode::FAILURE
        }
    }
}

async fn run(settings: Settings) -> anyhow::Result<()> {
    let addr = settings.http.addr;
    let app = api::App::build(settings).await?;
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    tracing::info!(graphql = %format!("http://{local}/graphql"), "registry-api listening");
    app.serve(listener, api::shutdown_signal()).await
}
