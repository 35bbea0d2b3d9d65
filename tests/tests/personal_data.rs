//! Personal data at rest: no ID number or phone in clear in the database (a `pg_dump` of
//! PostgreSQL, the raw SQLite file), every ciphertext column known to key rotation, and
//! rotation that re-encrypts in batches and resumes after an interruption.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::collections::{BTreeSet, HashSet};

use api::config::{KeySettings, Settings};
use api::pii::registry::{SEALED_COLUMNS, VOLUNTEER_TABLES, export_sections};
use api::pii::rotation::{RotationReport, rotate};
use api::pii::{Binding, KeyOrigin, KeyRing};
use base64::Engine;
use futures::StreamExt;
use registry_tests::{Backend, TestApp, TestDb, both_backends};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, Statement};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use uuid::Uuid;

/// Synthetic volunteers seeded for the no-plaintext check: "a few thousand".
const SEEDED: u32 = 3000;

fn key(byte: u8) -> SecretString {
    base64::engine::general_purpose::STANDARD.encode([byte; 32]).into()
}

/// Keys with the given field keys, the last one active.
fn keys(field: &[(&str, u8)]) -> KeySettings {
    KeySettings {
        field_active: field.last().map(|(id, _)| (*id).to_owned()),
        field: field.iter().map(|(id, byte)| ((*id).to_owned(), key(*byte))).collect(),
        blind_index: Some(key(90)),
        token_signing: Some(key(91)),
    }
}

async fn app_with_keys(db: &TestDb, field: &[(&str, u8)]) -> TestApp {
    db.app_with(|settings: &mut Settings| settings.keys = keys(field)).await
}

/// Every ciphertext the database holds, with where it lives.
async fn sealed_values(app: &TestApp) -> Vec<(&'static str, &'static str, Uuid, Vec<u8>)> {
    let mut values = Vec::new();
    for sealed in SEALED_COLUMNS {
        let (table, column) = (&sealed.table, &sealed.column);
        let select = Query::select()
            .columns([Alias::new("id"), Alias::new(*column)])
            .from(Alias::new(*table))
            .and_where(Expr::col(Alias::new(*column)).is_not_null())
            .to_owned();
        for row in app.app.db().query_all(&select).await.unwrap() {
            values.push((*table, *column, row.try_get("", "id").unwrap(), row.try_get("", column).unwrap()));
        }
    }
    values
}

/// A volunteer of each flow that writes personal data: registration, a sign-in code by SMS, an
/// audited unmasking, a hospital contact.
async fn exercise(app: &TestApp) -> Vec<String> {
    let mut clear = Vec::new();
    for n in 0..3 {
        let volunteer = app.register_volunteer(n, "51").await;
        clear.extend([volunteer.phone.clone(), volunteer.national_id.clone()]);
    }
    let phone = &clear[0];
    app.execute_request(
        async_graphql::Request::new("mutation($p: String!) { requestSignInCode(phone: $p) { expiresIn } }")
            .variables(async_graphql::Variables::from_json(json!({ "p": phone }))),
    )
    .await;
    app.latest_code(phone).await.expect("the code was delivered");
    clear
}

both_backends! {
    async fn rotation_re_encrypts_in_batches_and_resumes_after_an_interruption(db) {
        let old = app_with_keys(&db, &[("k1", 1)]).await;
        exercise(&old).await;
        let admin = api::service::Principal::Staff { id: Uuid::now_v7(), role: api::service::StaffRole::NationalAdmin, branch: "11".into() };
        let hospital = api::service::NewHospital {
            name: "四川大学华西医院".into(),
            branch_code: "51".into(),
            contact_name: "张医生".into(),
            contact_phone: "13800000009".into(),
        };
        let registered = old.app.services().hospitals.register(&admin.national_admin().unwrap(), &admin, hospital, None).await.unwrap();
        let total = sealed_values(&old).await.len() as u64;
        assert!(total >= 10, "only {total} sealed values");

        let both = KeyRing::from_settings(&keys(&[("k1", 1), ("k2", 2)]), KeyOrigin::Configured).unwrap();
        let interrupted = rotate(old.app.db(), &both.cipher, 2, Some(2)).await.unwrap();
        assert!(!interrupted.complete);
        assert!(interrupted.rewritten > 0 && interrupted.rewritten <= 4, "{interrupted:?}");
        let resumed = rotate(old.app.db(), &both.cipher, 2, None).await.unwrap();
        assert!(resumed.complete);
        assert_eq!(interrupted.rewritten + resumed.rewritten, total, "every value once, none twice");
        let again = rotate(old.app.db(), &both.cipher, 2, None).await.unwrap();
        assert_eq!(again, RotationReport { examined: total, rewritten: 0, complete: true });

        // Without the old key, every value still decrypts, and the service reads its data.
        let only_new = KeyRing::from_settings(&keys(&[("k2", 2)]), KeyOrigin::Configured).unwrap();
        for (table, column, id, stored) in sealed_values(&old).await {
            only_new.cipher.decrypt(&stored, Binding { table, column, row: id }).unwrap();
        }
        let new = app_with_keys(&db, &[("k2", 2)]).await;
        let view = new.app.services().hospitals.get(&admin, registered.id).await.unwrap();
        assert_eq!(view.contact_phone_masked, "138****0009");
    }

    async fn every_binary_column_is_a_known_ciphertext_a_digest_or_an_index(db) {
        let app = db.app().await;
        let (sql, backend) = match db.backend() {
            Backend::Postgres => (
                "SELECT table_name AS t, column_name AS c FROM information_schema.columns \
                 WHERE table_schema = 'public' AND data_type = 'bytea'",
                sea_orm::DatabaseBackend::Postgres,
            ),
            Backend::Sqlite => (
                "SELECT m.name AS t, p.name AS c FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                 WHERE m.type = 'table' AND lower(p.type) = 'blob'",
                sea_orm::DatabaseBackend::Sqlite,
            ),
        };
        let rows = app.app.db().query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
        let binary: BTreeSet<(String, String)> = rows
            .iter()
            .map(|row| (row.try_get::<String>("", "t").unwrap(), row.try_get::<String>("", "c").unwrap()))
            .filter(|(_, column)| !column.ends_with("_index") && !column.ends_with("_hash"))
            .collect();
        let sealed: BTreeSet<(String, String)> =
            SEALED_COLUMNS.iter().map(|sealed| (sealed.table.to_owned(), sealed.column.to_owned())).collect();
        assert_eq!(binary, sealed, "a binary column that is not a digest must be listed in SEALED_COLUMNS");
    }

    async fn every_table_with_a_volunteer_id_is_in_the_personal_data_registry(db) {
        let app = db.app().await;
        let owned: BTreeSet<String> = tables_with_volunteer_id(&db, &app).await;
        let listed: BTreeSet<String> = VOLUNTEER_TABLES.iter().map(|owned| owned.table.to_owned()).collect();
        assert_eq!(
            owned, listed,
            "a table holding a volunteer_id must be listed in api::pii::registry::VOLUNTEER_TABLES, \
             which withdrawal erases and the data export accounts for"
        );
    }

    async fn withdrawal_leaves_no_row_of_the_volunteer_in_any_table_and_the_export_shows_each_section(db) {
        use api::service::Principal;
        let app = db.app().await;
        let volunteer = app.register_volunteer(1, "51").await;
        let other = app.register_volunteer(2, "51").await;
        let me = Principal::Volunteer { id: volunteer.id };
        let family = "mutation { recordFamilyMember(input: { relationship: PARENT, name: \"王芳\", stance: OPPOSED }) { familyMembers { id } } }";
        app.data_as(&me, family, json!({})).await;
        app.data_as(&me, "mutation { requestFamilyInfoPack(channel: STAFF_CALL) }", json!({})).await;
        let attempt = "mutation($id: ID!) { logContactAttempt(volunteerId: $id, input: { channel: PHONE_CALL, outcome: NO_ANSWER }) { id } }";
        app.data_as(&registry_tests::staff("branch_coordinator", "51"), attempt, json!({ "id": volunteer.id })).await;

        let export = app.data_as(&me, "{ myDataExport }", json!({})).await["myDataExport"].clone();
        for section in export_sections() {
            assert!(export.get(section).is_some(), "the export has no `{section}` section: {export}");
        }

        let notice = app.data_as(&me, "{ withdrawalNotice { confirmation } }", json!({})).await;
        let withdraw = "mutation($c: String!) { withdraw(cause: FAMILY, confirmation: $c) { deletedEverything } }";
        app.data_as(&me, withdraw, json!({ "c": notice["withdrawalNotice"]["confirmation"] })).await;
        for table in tables_with_volunteer_id(&db, &app).await {
            let rows = |id: Uuid| {
                let count = Query::select()
                    .expr(Expr::cust("COUNT(*)"))
                    .from(Alias::new(table.as_str()))
                    .and_where(Expr::col(Alias::new("volunteer_id")).eq(id))
                    .to_owned();
                let db = app.app.db().clone();
                async move { db.query_one(&count).await.unwrap().unwrap().try_get_by_index::<i64>(0).unwrap() }
            };
            assert_eq!(rows(volunteer.id).await, 0, "{table} keeps rows of a withdrawn volunteer");
            if table == "volunteer_contact" {
                assert!(rows(other.id).await > 0, "the check can see rows: the other volunteer's stay");
            }
        }
    }

    async fn the_stored_database_holds_no_id_number_or_phone_in_clear(db) {
        let app = db.app().await;
        let mut clear = exercise(&app).await;
        // Registered eight at a time, as a branch's recruiters would, to keep the test quick.
        let services = app.app.services();
        let now = chrono::Utc::now();
        let seeded: Vec<_> = (3..SEEDED)
            .map(|n| api::service::development::synthetic_volunteer(n, if n % 2 == 0 { "51" } else { "11" }).unwrap())
            .collect();
        clear.extend(seeded.iter().flat_map(|v| [v.phone.expose().to_owned(), v.national_id.expose().to_owned()]));
        futures::stream::iter(seeded)
            .for_each_concurrent(8, |volunteer| async move {
                services.volunteers.register(volunteer, now).await.unwrap();
            })
            .await;
        // Phones are searched for as volunteers type them too: the 11 national digits.
        let needles: HashSet<Vec<u8>> = clear
            .iter()
            .flat_map(|value| [value.clone().into_bytes(), value.trim_start_matches("+86").as_bytes().to_vec()])
            .collect();
        let stored = stored_bytes(&db, &app).await;
        assert!(stored.len() > 100_000, "the dump holds the seeded rows ({} bytes)", stored.len());
        let found = occurrences(&stored, &needles);
        assert_eq!(found, 0, "{found} seeded values found in clear");
        // The same scan finds values that are there, so the check can fail.
        let branch_names: HashSet<Vec<u8>> = HashSet::from(["四川".as_bytes().to_vec()]);
        assert!(occurrences(&stored, &branch_names) > 0, "the dump is readable text");
    }
}

/// The tables of the database's own schema that have a `volunteer_id` column.
async fn tables_with_volunteer_id(db: &TestDb, app: &TestApp) -> BTreeSet<String> {
    let (sql, backend) = match db.backend() {
        Backend::Postgres => (
            "SELECT table_name AS t FROM information_schema.columns \
             WHERE table_schema = 'public' AND column_name = 'volunteer_id'",
            sea_orm::DatabaseBackend::Postgres,
        ),
        Backend::Sqlite => (
            "SELECT m.name AS t FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND p.name = 'volunteer_id'",
            sea_orm::DatabaseBackend::Sqlite,
        ),
    };
    let rows = app.app.db().query_all_raw(Statement::from_string(backend, sql)).await.unwrap();
    rows.iter().map(|row| row.try_get::<String>("", "t").unwrap()).collect()
}

/// How many times any of `needles` occurs in `haystack`: one hash lookup per position and
/// needle length, so thousands of needles cost no more than a few.
fn occurrences(haystack: &[u8], needles: &HashSet<Vec<u8>>) -> usize {
    let lengths: BTreeSet<usize> = needles.iter().map(Vec::len).collect();
    lengths.iter().map(|length| haystack.windows(*length).filter(|window| needles.contains(*window)).count()).sum()
}

/// The whole database as stored: `pg_dump` of PostgreSQL, or the SQLite file and its WAL.
async fn stored_bytes(db: &TestDb, app: &TestApp) -> Vec<u8> {
    match db.backend() {
        Backend::Postgres => {
            let url = db.settings().database.url.unwrap();
            let url = url.expose_secret().to_owned();
            let output = tokio::task::spawn_blocking(move || {
                std::process::Command::new("pg_dump").arg("--no-owner").arg(url).output()
            })
            .await
            .unwrap()
            .expect("pg_dump runs (PostgreSQL client tools are installed where the tests run)");
            assert!(output.status.success(), "pg_dump: {}", String::from_utf8_lossy(&output.stderr));
            output.stdout
        }
        Backend::Sqlite => {
            app.app.db().execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)").await.unwrap();
            let file = db.settings().data_dir().join("registry.db");
            let mut bytes = tokio::fs::read(&file).await.unwrap();
            bytes.extend(tokio::fs::read(file.with_extension("db-wal")).await.unwrap_or_default());
            bytes
        }
    }
}
