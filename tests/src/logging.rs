//! The service's logs during the test run, kept when `TEST_SERVICE_LOG_DIR` is set (the test
//! command sets it), so that `scripts/check-logs.sh` can show that no phone or ID number was
//! ever logged in clear. Debug level for the service, as an operator chasing a fault would run.

use std::sync::{Arc, Once};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

static CAPTURE: Once = Once::new();

/// Installs, once per test binary, a JSON log writer into `$TEST_SERVICE_LOG_DIR`.
pub fn capture() {
    CAPTURE.call_once(|| {
        let Some(dir) = std::env::var_os("TEST_SERVICE_LOG_DIR") else { return };
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("creating the test log directory");
        let binary = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.file_stem().map(|stem| stem.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "tests".into());
        let file = std::fs::File::create(dir.join(format!("{binary}-{}.jsonl", std::process::id())))
            .expect("creating the test log file");
        let _ = tracing_subscriber::registry()
            .with(EnvFilter::new("info,api=debug,registry_tests=debug"))
            .with(tracing_subscriber::fmt::layer().json().with_current_span(true).with_writer(Arc::new(file)))
            .try_init();
    });
}
