//! `registry-admin bootstrap-national-admin <username>`: creates the first national
//! administrator of a fresh deployment, with the password from `REGISTRY_BOOTSTRAP_PASSWORD` or
//! the first line of standard input. Refused once a national administrator exists; every
//! later account is created by an administrator through the API.

use std::io::BufRead;
use std::process::ExitCode;

use api::config::Settings;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [command, username] = args.as_slice() else {
        eprintln!("usage: registry-admin bootstrap-national-admin <username>");
        return ExitCode::from(2);
    };
    if command != "bootstrap-national-admin" {
        eprintln!("unknown command {command:?}; usage: registry-admin bootstrap-national-admin <username>");
        return ExitCode::from(2);
    }
    let password = if let Ok(password) = std::env::var("REGISTRY_BOOTSTRAP_PASSWORD") {
        password
    } else {
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line).is_err() {
            eprintln!("registry-admin: cannot read the password from standard input");
            return ExitCode::FAILURE;
        }
        line.trim_end_matches(['\r', '\n']).to_owned()
    };
    let result = async {
        let app = api::App::build(Settings::load()?).await?;
        app.staff().bootstrap_national_admin(username, &password).await.map_err(|err| anyhow::anyhow!("{err:?}"))
    }
    .await;
    match result {
        Ok(created) => {
            eprintln!("registry-admin: national administrator {username} created ({})", created.id);
            if let Some(uri) = created.totp_uri {
                eprintln!("registry-admin: scan this into an authenticator app now; it is not shown again:");
                // The URI on standard output, alone, so that it can be piped to a QR encoder.
                #[allow(clippy::print_stdout)]
                {
                    println!("{uri}");
                }
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("registry-admin: {err:#}");
            ExitCode::FAILURE
        }
    }
}
