//! The contract: `schema.graphql` matches the code, and the app's operation documents in
//! `tests/operations/` are valid and run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::path::Path;

use registry_tests::both_backends;

#[test]
fn schema_graphql_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == api::graphql::sdl(),
        "schema.graphql is out of date with the code.\nRegenerate it with:\n\n    cargo run -p api --bin export-schema\n\nthen review the diff: a removed or changed field needs @deprecated first."
    );
}

/// The mobile app's documents are its contract: each one must be played by the self-service
/// tests (which run it over HTTP on both databases and check its result).
#[test]
fn every_mobile_document_is_played_by_a_test() {
    let played = [
        include_str!("self_service.rs"),
        include_str!("cases.rs"),
        include_str!("benefits.rs"),
        include_str!("letters.rs"),
    ]
    .concat();
    let helpers = include_str!("../src/mobile.rs");
    let mut names: Vec<String> = std::fs::read_dir(registry_tests::mobile::contract_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "graphql"))
        .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 20, "{names:?}");
    for name in names {
        let quoted = format!("\"{name}\"");
        assert!(
            played.contains(&quoted) || helpers.contains(&quoted),
            "contract/mobile/{name}.graphql is played by no test"
        );
    }
}

/// A partner hospital's documents are played by the donation-case and green-channel tests.
#[test]
fn every_hospital_document_is_played_by_a_test() {
    let played = [
        include_str!("cases.rs"),
        include_str!("green_channel.rs"),
        include_str!("benefits.rs"),
        include_str!("../src/desk.rs"),
    ]
    .concat();
    for entry in std::fs::read_dir(registry_tests::mobile::client_dir("hospital")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|ext| ext == "graphql") {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(played.contains(&format!("\"{name}\"")), "contract/hospital/{name}.graphql is played by no test");
        }
    }
}

/// The codegen configuration that `contract/README.md` shows is the one the test command runs.
#[test]
fn the_readme_shows_the_codegen_configuration_in_use() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../contract");
    let config = std::fs::read_to_string(dir.join("codegen.yml")).unwrap();
    let readme = std::fs::read_to_string(dir.join("README.md")).unwrap();
    let shown = readme.split("```yaml\n").nth(1).and_then(|rest| rest.split("```").next()).unwrap();
    assert_eq!(shown, config, "contract/README.md shows another codegen configuration than codegen.yml");
}

/// Every operation document, with its variables from `<Name>.variables.json` when present.
fn operations() -> Vec<(String, String, serde_json::Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("operations");
    let mut found: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "graphql"))
        .map(|path| {
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let variables = std::fs::read_to_string(dir.join(format!("{name}.variables.json")))
                .map_or(serde_json::Value::Null, |text| serde_json::from_str(&text).unwrap());
            (name, std::fs::read_to_string(&path).unwrap(), variables)
        })
        .collect();
    found.sort_by(|a, b| a.0.cmp(&b.0));
    found
}

both_backends! {
    async fn every_operation_document_validates_and_runs(db) {
        let app = db.app().await;
        let operations = operations();
        assert!(!operations.is_empty());
        for (name, document, variables) in operations {
            let request = async_graphql::Request::new(document)
                .variables(async_graphql::Variables::from_json(variables));
            let response = app.execute_request(request).await;
            assert!(response.errors.is_empty(), "{name}: {:?}", response.errors);
        }
    }
}
