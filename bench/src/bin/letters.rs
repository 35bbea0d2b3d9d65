//! Leave letters: rendering on one core, and the public check page under load.
//! - Rendering: the scenario-6 letter in both languages (krilla, the font subset, the QR code),
//!   one after another on one task, as letters per second and milliseconds per letter, beside
//!   what issuing stores for the same facts (their JSON, sealed and digested). Target: under
//!   50 ms per letter.
//! - The page: `GET /letters/{code}` (the rate limit's counter, the lookup by blind index, the
//!   facts opened, the check counted, the HTML with its SVG QR code) with `--concurrency`
//!   requests in flight, beside `GET /healthz` from the same server, a static answer. Target:
//!   the page's p95 under 20 ms.
//!
//! ```text
//! cargo run --release -p bench --bin letters -- [--letters 200] [--requests 2000] [--concurrency 8]
//! ```
//!
//! PostgreSQL comes from `TEST_DATABASE_ADMIN_URL`, as in the tests; each run gets a fresh
//! database and drops it.

#![allow(clippy::print_stdout, clippy::cast_precision_loss, clippy::unwrap_used, clippy::expect_used)] // a report

use std::time::{Duration, Instant};

use api::domain::letter::{LeavePeriod, LeavePurpose, LetterLanguage};
use api::service::Principal;
use api::service::letters::{LetterFacts, LetterRequest, Letterhead};
use bench::{arg, peak_rss_mib, percentile};
use futures::StreamExt;
use registry_tests::desk::{Desk, available};
use registry_tests::{Backend, in_days, run};
use serde_json::json;

#[tokio::main]
async fn main() {
    let letters = arg("letters", 200);
    let requests = arg("requests", 2000);
    let concurrency = arg("concurrency", 8);
    run(Backend::Postgres, move |db| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = Box::pin(db.app_with(|settings| {
            settings.database.max_connections = 32;
            settings.messaging.workers = 0;
            settings.letters.public_base_url.clone_from(&base);
            settings.letters.checks_per_minute = u32::MAX;
        }))
        .await;
        let server = app.serve_on(listener);
        let service = &app.app.services().letters;

        let facts = scenario_6_facts(&base);
        let mut rendered = Vec::with_capacity(letters);
        let mut size = 0;
        for _ in 0..letters {
            let started = Instant::now();
            size = service.render(&facts).unwrap().len();
            rendered.push(started.elapsed());
        }
        rendered.sort();
        let keys = &app.app.services().keys;
        let mut stored = Vec::with_capacity(letters);
        for _ in 0..letters {
            let started = Instant::now();
            let json = serde_json::to_string(&facts).unwrap();
            let sealed = keys.cipher.encrypt(&json, api::pii::registry::LEAVE_LETTER_FACTS.at(uuid::Uuid::now_v7()));
            std::hint::black_box((sealed, api::service::letters::digest(&json)));
            stored.push(started.elapsed());
        }
        stored.sort();
        let total: Duration = rendered.iter().sum();
        println!("render the scenario-6 letter in both languages, {letters} in a row on one task ({size} bytes each)");
        println!(
            "  render {:>6.1} / {:>6.1} ms (p50 / p95)    {:>6.0} letters/s    seal+digest the facts {:>6.3} ms    ratio p50 {:.0}",
            percentile(&rendered, 50),
            percentile(&rendered, 95),
            letters as f64 / total.as_secs_f64(),
            percentile(&stored, 50),
            percentile(&rendered, 50) / percentile(&stored, 50),
        );

        let code = letter_code(&app, &server).await;
        let client = reqwest::Client::new();
        let page = server.url(&format!("/letters/{code}"));
        let health = server.url("/healthz");
        drive(&client, &page, requests / 4, concurrency).await; // warm-up
        drive(&client, &health, requests / 4, concurrency).await;
        let page_times = drive(&client, &page, requests, concurrency).await;
        let static_times = drive(&client, &health, requests, concurrency).await;
        println!("GET /letters/{{code}} beside GET /healthz, {requests} requests, {concurrency} in flight, PostgreSQL");
        println!(
            "  page {:>6.1} / {:>6.1} ms (p50 / p95)    static {:>6.1} / {:>6.1} ms    ratio p95 {:.1}",
            percentile(&page_times, 50),
            percentile(&page_times, 95),
            percentile(&static_times, 50),
            percentile(&static_times, 95),
            percentile(&page_times, 95) / percentile(&static_times, 95),
        );
        println!("  peak RSS of this process: {} MiB", peak_rss_mib());
        server.stop().await.unwrap();
    })
    .await;
}

/// The letter of scenario 6: 4 G-CSF days, the collection and 2 rest days.
fn scenario_6_facts(base: &str) -> LetterFacts {
    let periods = vec![
        LeavePeriod { purpose: LeavePurpose::Mobilisation, from: in_days(10), to: in_days(13) },
        LeavePeriod { purpose: LeavePurpose::Collection, from: in_days(14), to: in_days(14) },
        LeavePeriod { purpose: LeavePurpose::Rest, from: in_days(15), to: in_days(16) },
    ];
    LetterFacts {
        code: "ABCD-EFGH-JKMN-PQRS-TVWX".into(),
        verify_url: format!("{base}/letters/ABCDEFGHJKMNPQRSTVWX"),
        language: LetterLanguage::Both,
        donor_name: "李洋伟".into(),
        employer: "成都蓝天科技有限公司".into(),
        periods,
        letterhead: Letterhead {
            branch_code: "51".into(),
            name_zh: "中华骨髓库四川分库".into(),
            name_en: "China Marrow Donor Program, Sichuan Branch".into(),
            contact: Some("028-00000000".into()),
        },
        issued_on: in_days(0),
    }
}

/// A real letter's code: a donor's case recorded to collection today, and a letter for the
/// collection and two rest days.
async fn letter_code(app: &registry_tests::TestApp, server: &registry_tests::Server) -> String {
    let desk = Desk::staff(server, app.staff_token("branch_coordinator", "51").await);
    let volunteer = available(app, 1).await;
    let (case, _) = app.open_case(volunteer.id, "51", api::service::cases::Requester::Centre("华西".into())).await;
    let stages = ["CT_REQUESTED", "CT_SAMPLE_TAKEN", "CT_RESULT", "INFO_SESSION", "EXAM_BOOKED", "EXAM_PASSED"];
    for stage in stages.iter().chain(&["CLEARANCE", "GCSF_START"]) {
        desk.call("RecordCaseStep", json!({ "caseId": case, "input": { "stage": stage, "on": in_days(0) } })).await;
    }
    let collection =
        json!({ "caseId": case, "input": { "stage": "COLLECTION", "on": in_days(0), "collectedMl": 400 } });
    desk.call("RecordCaseStep", collection).await;
    let request = LetterRequest {
        periods: vec![
            LeavePeriod { purpose: LeavePurpose::Collection, from: in_days(0), to: in_days(0) },
            LeavePeriod { purpose: LeavePurpose::Rest, from: in_days(1), to: in_days(2) },
        ],
        employer: Some("成都蓝天科技有限公司".into()),
        language: "both".into(),
    };
    let donor = Principal::Volunteer { id: volunteer.id };
    let letter = app.app.services().letters.issue(&donor, None, request, None).await.unwrap();
    letter.code.unwrap().replace('-', "")
}

/// GETs `url` `requests` times, `concurrency` at a time; returns the sorted latencies.
async fn drive(client: &reqwest::Client, url: &str, requests: usize, concurrency: usize) -> Vec<Duration> {
    let mut times: Vec<Duration> = futures::stream::iter(0..requests)
        .map(|_| async {
            let started = Instant::now();
            let response = client.get(url).send().await.unwrap();
            assert!(response.status().is_success(), "{}", response.status());
            response.bytes().await.unwrap();
            started.elapsed()
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    times.sort();
    times
}
