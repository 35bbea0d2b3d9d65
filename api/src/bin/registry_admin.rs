//! Operator commands, run with the service's configuration:
//!
//! - `registry-admin bootstrap-national-admin <username>`: creates the first national
//!   administrator of a fresh deployment, with the password from `REGISTRY_BOOTSTRAP_PASSWORD`
//!   or the first line of standard input. Refused once one exists; every later account is
//!   created by an administrator through the API.
//! - `registry-admin rotate-field-keys [batch size]`: re-encrypts stored personal data with the
//!   active field key, in batches; safe to stop and rerun (see `api::pii::rotation`).
//! - `registry-admin seed-volunteers <count> [branch] [first]`: registers synthetic volunteers
//!   for development, demos and the no-plaintext check. Refused in production.
//! - `registry-admin seed-registry <count> [seed]`: writes a synthetic national registry (see
//!   `api::service::development::registry`) into an empty register, in bulk, with ten years of
//!   donation cases (`api::service::development::cases`): 3.6 million volunteers take minutes
//!   on PostgreSQL. For benchmarks and demos; refused in production.
//! - `registry-admin seed-cases [seed]`: adds the case history alone, to a register seeded
//!   before donation cases existed.

use std::io::BufRead;
use std::process::ExitCode;

use api::config::Settings;

const USAGE: &str = "usage: registry-admin bootstrap-national-admin <username>\n       \
                     registry-admin rotate-field-keys [batch size, default 500]\n       \
                     registry-admin seed-volunteers <count> [branch, default 51] [first number, default 0]\n       \
                     registry-admin seed-registry <count> [seed, default 1]\n       \
                     registry-admin seed-cases [seed, default 1]";

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["bootstrap-national-admin", username] => bootstrap(username).await,
        ["rotate-field-keys", rest @ ..] if rest.len() <= 1 => match number(rest.first(), 500) {
            Ok(batch) => rotate(batch).await,
            Err(err) => Err(err),
        },
        ["seed-volunteers", count, rest @ ..] if rest.len() <= 2 => {
            match (number(Some(count), 0), number(rest.get(1), 0)) {
                (Ok(count), Ok(first)) => seed(count, rest.first().copied().unwrap_or("51"), first).await,
                (Err(err), _) | (_, Err(err)) => Err(err),
            }
        }
        ["seed-registry", count, rest @ ..] if rest.len() <= 1 => {
            match (number(Some(count), 0), number(rest.first(), 1)) {
                (Ok(count), Ok(seed)) => Box::pin(seed_registry(count, u64::from(seed))).await,
                (Err(err), _) | (_, Err(err)) => Err(err),
            }
        }
        ["seed-cases", rest @ ..] if rest.len() <= 1 => match number(rest.first(), 1) {
            Ok(seed) => Box::pin(seed_cases(u64::from(seed))).await,
            Err(err) => Err(err),
        },
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("registry-admin: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn number(arg: Option<&&str>, default: u32) -> anyhow::Result<u32> {
    arg.map_or(Ok(default), |text| text.parse().map_err(|_| anyhow::anyhow!("{text:?} is not a number\n{USAGE}")))
}

async fn bootstrap(username: &str) -> anyhow::Result<()> {
    let password = if let Ok(password) = std::env::var("REGISTRY_BOOTSTRAP_PASSWORD") {
        password
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|_| anyhow::anyhow!("cannot read the password"))?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    let app = api::App::build(Settings::load()?).await?;
    let created =
        app.staff().bootstrap_national_admin(username, &password).await.map_err(|err| anyhow::anyhow!("{err:?}"))?;
    eprintln!("registry-admin: national administrator {username} created ({})", created.id);
    if let Some(uri) = created.totp_uri {
        eprintln!("registry-admin: scan this into an authenticator app now; it is not shown again:");
        // The URI on standard output, alone, so that it can be piped to a QR encoder.
        #[allow(clippy::print_stdout)]
        {
            println!("{uri}");
        }
    }
    Ok(())
}

async fn rotate(batch_size: u32) -> anyhow::Result<()> {
    if batch_size == 0 {
        anyhow::bail!("the batch size must be at least 1");
    }
    let app = api::App::build(Settings::load()?).await?;
    let cipher = &app.services().keys.cipher;
    eprintln!("registry-admin: re-encrypting with field key {:?}", cipher.active_key_id());
    let report = api::pii::rotation::rotate(app.db(), cipher, u64::from(batch_size), None).await?;
    eprintln!(
        "registry-admin: {} values examined, {} re-encrypted; no value needs an older key now",
        report.examined, report.rewritten
    );
    Ok(())
}

async fn seed(count: u32, branch: &str, first: u32) -> anyhow::Result<()> {
    let settings = Settings::load()?;
    if settings.is_production() {
        anyhow::bail!("synthetic volunteers are for development only; the production profile refuses them");
    }
    let app = api::App::build(settings).await?;
    let now = chrono::Utc::now();
    for n in first..first.saturating_add(count) {
        let volunteer = api::service::development::synthetic_volunteer(n, branch)
            .map_err(|err| anyhow::anyhow!("synthetic volunteer {n}: {err}"))?;
        app.services().volunteers.register(volunteer, now).await.map_err(|err| anyhow::anyhow!("{err:?}"))?;
    }
    eprintln!("registry-admin: {count} synthetic volunteers registered in branch {branch}, numbers {first}..");
    Ok(())
}

async fn seed_registry(count: u32, seed: u64) -> anyhow::Result<()> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = bulk_app().await?;
    if entity::volunteer::Entity::find().count(app.db()).await? > 0 {
        anyhow::bail!("the register is not empty: seed a fresh database");
    }
    let started = std::time::Instant::now();
    let registry = api::service::development::registry::Synthetic { count, seed, now: chrono::Utc::now() };
    let report = registry
        .write(app.db(), std::sync::Arc::clone(&app.services().keys), 3, move |done| {
            eprintln!(
                "registry-admin: {done} of {count} volunteers written ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        })
        .await?;
    eprintln!(
        "registry-admin: {} synthetic volunteers ({} stale, {} backup contacts) in {:.0} s, statistics gathered",
        report.volunteers,
        report.stale,
        report.backup_contacts,
        started.elapsed().as_secs_f64()
    );
    write_cases(&app, count, seed).await
}

/// Ten years of donation cases over the seeded register: about 2,000 collections a year on a
/// registry of national size, fewer on a small one (a tenth of the volunteers at most are ever
/// matched).
async fn write_cases(app: &api::App, volunteers: u32, seed: u64) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let collections_per_year = (volunteers / 1_800).clamp(1, 2_000);
    let history = api::service::development::cases::CaseHistory {
        years: 10,
        collections_per_year,
        seed,
        now: chrono::Utc::now(),
    };
    let cases = history.write(app.db(), &app.services().cases).await?;
    api::db::bulk::ready_after_load(app.db()).await?;
    eprintln!(
        "registry-admin: {} donation cases ({} steps, {} collected, {} ended by the donor, {} active) in {:.0} s",
        cases.cases,
        cases.steps,
        cases.collected,
        cases.donor_ended,
        cases.active,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Adds the case history to a register seeded before cases existed.
async fn seed_cases(seed: u64) -> anyhow::Result<()> {
    use sea_orm::{EntityTrait, PaginatorTrait};
    let app = bulk_app().await?;
    if entity::donation_case::Entity::find().count(app.db()).await? > 0 {
        anyhow::bail!("the register already has donation cases");
    }
    let volunteers = entity::volunteer::Entity::find().count(app.db()).await?;
    write_cases(&app, u32::try_from(volunteers).unwrap_or(u32::MAX), seed).await
}

/// The app for a bulk load: refused in production, and with statements allowed to run as long
/// as a load of millions of rows and the statistics after it take (an hour), not a request's
/// few seconds.
async fn bulk_app() -> anyhow::Result<api::App> {
    let mut settings = Settings::load()?;
    if settings.is_production() {
        anyhow::bail!("a synthetic registry is for benchmarks and demos only; the production profile refuses it");
    }
    settings.database.statement_timeout_ms = 3_600_000;
    api::App::build(settings).await
}
