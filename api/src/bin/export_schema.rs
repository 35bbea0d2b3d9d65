//! `cargo run -p api --bin export-schema`: writes the contract, `schema.graphql`, at the
//! workspace root from the code. No database is needed.

use std::path::Path;
use std::process::ExitCode;

fn main() -> ExitCode {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    match std::fs::write(&path, api::graphql::sdl()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("export-schema: cannot write {}: {err}", path.display());
            ExitCode::FAILURE
        }
    }
}
