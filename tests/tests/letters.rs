//! Employer leave letters, played over HTTP with the documents of `contract/mobile/` and
//! `contract/staff/`: scenario 6 with the PDF read back by poppler's `pdftotext` and its QR
//! code decoded by zbar's `zbarimg`, the public page in headless Chromium, reissue and
//! revocation as an employer sees them, single-use links, who is refused, bad input that
//! stores nothing, and the page's rate limit.
//!
//! The outside programs come from Debian's packages (poppler-utils, zbar-tools, chromium,
//! fonts-wqy-microhei), which the test command installs when missing: these tests never skip.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use std::path::PathBuf;

use entity::{leave_letter, letter_download};
use registry_tests::desk::{Desk, available, partner_hospital};
use registry_tests::mobile::Mobile;
use registry_tests::{Server, TestApp, both_backends, error_codes, field_of, in_days};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tokio::process::Command;

const EMPLOYER: &str = "成都蓝天科技有限公司";

/// An app whose letters point at the server it will be served on, with a pool of one database
/// connection, as the mobile contract is played everywhere: a request that took a second
/// connection while holding one would wait for ever.
async fn letters_app(
    db: &registry_tests::TestDb,
    configure: impl FnOnce(&mut api::config::Settings),
) -> (TestApp, Server) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = db
        .app_with(|settings| {
            settings.letters.public_base_url = base;
            settings.database.max_connections = 1;
            configure(settings);
        })
        .await;
    app.set_quiet_hours("51", 0, 0).await;
    let server = app.serve_on(listener);
    (app, server)
}

/// A PBSC donor signed in on their phone, whose case's collection a partner hospital accepted
/// for 14 days from now; with their full name, ID number and case id.
struct Donor<'a> {
    phone: Mobile<'a>,
    name: String,
    national_id: String,
    case: String,
}

async fn donor<'a>(app: &TestApp, server: &'a Server, n: u32) -> (Donor<'a>, Desk<'a>) {
    let admin = app.staff_token("national_admin", "11").await;
    let coordinator = Desk::staff(server, app.staff_token("branch_coordinator", "51").await);
    let (hospital_id, token) = partner_hospital(server, &admin, &format!("四川大学华西医院{n}")).await;
    let hospital = Desk::hospital(server, token);
    let volunteer = available(app, n).await;
    let name = api::service::development::synthetic_volunteer(n, "51").unwrap().name.expose().to_owned();
    let mut phone = Mobile::new(server);
    phone.sign_in(app, &volunteer.phone).await;
    let requester = api::service::cases::Requester::Hospital(hospital_id.parse().unwrap());
    let (case, _) = app.open_case(volunteer.id, "51", requester).await;
    let case = case.to_string();
    for stage in ["CT_REQUESTED", "CT_SAMPLE_TAKEN", "CT_RESULT", "INFO_SESSION", "EXAM_BOOKED", "EXAM_PASSED"] {
        coordinator
            .call("RecordCaseStep", json!({ "caseId": case, "input": { "stage": stage, "on": in_days(0) } }))
            .await;
    }
    let admission = json!({ "input": {
        "caseId": case, "hospitalId": hospital_id, "purpose": "COLLECTION", "proposedOn": in_days(14),
        "alternatives": [], "stayDays": 2, "answerWithinHours": 48,
    } });
    let asked = coordinator.call("RequestAdmission", admission).await;
    let request = asked["requestAdmission"]["id"].as_str().unwrap();
    let accept = json!({ "idempotencyKey": format!("accept-{n}"), "input": {
        "requestId": request, "admittedOn": in_days(14), "department": "血液科",
        "contactName": "李护士", "contactPhone": "13800000021",
    } });
    hospital.call("AcceptAdmission", accept).await;
    (Donor { phone, name, national_id: volunteer.national_id, case }, coordinator)
}

/// 4 G-CSF days, a collection on day `collection` from today, and 2 rest days, in both
/// languages.
fn scenario_6_around(collection: i64) -> Value {
    json!({ "input": {
        "periods": [
            { "purpose": "MOBILISATION", "from": day(collection - 4), "to": day(collection - 1) },
            { "purpose": "COLLECTION", "from": day(collection), "to": day(collection) },
            { "purpose": "REST", "from": day(collection + 1), "to": day(collection + 2) },
        ],
        "employer": EMPLOYER,
        "language": "both",
    } })
}

/// Scenario 6's letter: 4 G-CSF days, the collection day and 2 rest days.
fn scenario_6(language: &str, employer: Option<&str>) -> Value {
    json!({ "input": {
        "periods": [
            { "purpose": "MOBILISATION", "from": in_days(10), "to": in_days(13) },
            { "purpose": "COLLECTION", "from": in_days(14), "to": in_days(14) },
            { "purpose": "REST", "from": in_days(15), "to": in_days(16) },
        ],
        "employer": employer,
        "language": language,
    } })
}

/// The PDF behind a fresh download link, and the link's path.
async fn download(server: &Server, phone: &Mobile<'_>, letter: &str) -> (Vec<u8>, String) {
    let link = phone.call("LeaveLetterDownload", json!({ "letterId": letter })).await;
    let path = link["leaveLetterDownload"]["path"].as_str().unwrap().to_owned();
    assert!(link["leaveLetterDownload"]["url"].as_str().unwrap().ends_with(&path));
    let response = server.client.get(server.url(&path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    (response.bytes().await.unwrap().to_vec(), path)
}

/// Where this test's files go: under `target/`, so a failed run leaves them to look at.
fn output_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/letters");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs one of the Debian programs these tests rely on; a missing one fails the test, naming
/// the package the test command installs.
async fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().await.unwrap_or_else(|error| {
        panic!("{program} could not run ({error}): scripts/test.sh installs it from Debian's packages")
    });
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

async fn pdf_text(pdf: &[u8], name: &str) -> String {
    let path = output_dir().join(format!("{name}.pdf"));
    std::fs::write(&path, pdf).unwrap();
    run("pdftotext", &["-layout", path.to_str().unwrap(), "-"]).await
}

/// The URL in the PDF's QR code, read from the page rendered as an image by `pdftoppm` and
/// decoded by `zbarimg`.
async fn qr_url(pdf: &[u8], name: &str) -> String {
    let dir = output_dir();
    let pdf_path = dir.join(format!("{name}-qr.pdf"));
    std::fs::write(&pdf_path, pdf).unwrap();
    let image = dir.join(format!("{name}-qr"));
    run("pdftoppm", &["-png", "-r", "200", "-singlefile", pdf_path.to_str().unwrap(), image.to_str().unwrap()]).await;
    let decoded =
        run("zbarimg", &["--raw", "-q", "-Sdisable", "-Sqrcode.enable", &format!("{}.png", image.display())]).await;
    decoded.trim().to_owned()
}

/// Headless Chromium, as an employer's browser: the page's DOM after load, and a screenshot.
async fn chromium(url: &str, screenshot: &std::path::Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--lang=zh-CN",
        "--accept-lang=zh-CN,zh",
        "--window-size=412,915",
    ];
    let profile_flag = format!("--user-data-dir={}", profile.path().display());
    let mut args: Vec<&str> = flags.to_vec();
    args.push(&profile_flag);
    let shot = format!("--screenshot={}", screenshot.display());
    let mut with_shot = args.clone();
    with_shot.extend([shot.as_str(), url]);
    run("chromium", &with_shot).await;
    assert!(std::fs::metadata(screenshot).unwrap().len() > 1_000, "a screenshot was drawn");
    args.extend(["--dump-dom", url]);
    run("chromium", &args).await
}

/// A name as the check shows it: the first character, then a star for each other one.
fn masked(name: &str) -> String {
    name.chars().take(1).chain(name.chars().skip(1).map(|_| '*')).collect()
}

fn backend(db: &registry_tests::TestDb) -> String {
    format!("{:?}", db.backend()).to_lowercase()
}

/// A date `n` days from today, as ISO 8601.
fn day(n: i64) -> String {
    in_days(n).to_string()
}

async fn letters_of(app: &TestApp) -> u64 {
    leave_letter::Entity::find().count(app.app.db()).await.unwrap()
}

both_backends! {
    async fn scenario_6_a_letter_covers_g_csf_collection_and_rest_and_an_employer_checks_it(db) {
        let (app, server) = letters_app(&db, |_| {}).await;
        let (donor, coordinator) = donor(&app, &server, 61).await;

        let asked = donor.phone.call("RequestLeaveLetter", scenario_6("both", Some(EMPLOYER))).await;
        let letter = &asked["requestLeaveLetter"];
        let id = letter["id"].as_str().unwrap().to_owned();
        let code = letter["code"].as_str().unwrap().to_owned();
        assert_eq!(letter["status"], "VALID");
        assert_eq!(letter["employer"], EMPLOYER);
        assert_eq!(code.len(), 24, "five groups of four: {code}");
        let days: Vec<i64> = letter["periods"].as_array().unwrap().iter().map(|p| p["days"].as_i64().unwrap()).collect();
        assert_eq!(days, [4, 1, 2]);

        // The PDF, fetched once with the single-use link: the name, the dates and the code in both
        // languages, and nothing about health or the patient.
        let (pdf, path) = download(&server, &donor.phone, &id).await;
        assert!(pdf.len() < 100_000, "a one-page letter stays small: {} bytes", pdf.len());
        let again = server.client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(again.status(), 404, "a link works once");
        let text = pdf_text(&pdf, &format!("scenario-6-{}", backend(&db))).await;
        let compact: String = text.split_whitespace().collect();
        assert!(compact.contains(&donor.name), "{text}");
        assert!(text.contains(EMPLOYER), "{text}");
        assert!(text.contains(&code), "{text}");
        for date in [day(10), day(13), day(14), day(15), day(16)] {
            assert!(text.contains(&date), "{date} in English: {text}");
        }
        let first = in_days(10);
        assert!(compact.contains(&first.format("%Y年%-m月%-d日").to_string()), "the Chinese date: {text}");
        assert!(text.contains("Leave letter") && compact.contains("请假证明"));
        for secret in [donor.national_id.as_str(), "P-1", "HLA", "patient", "患者", "白血病", "leukaemia", "diagnos", "诊断"] {
            assert!(!text.contains(secret), "the letter says {secret}: {text}");
        }

        // The QR code, decoded by zbar from the rendered page, points at the public check.
        let url = qr_url(&pdf, &format!("scenario-6-{}", backend(&db))).await;
        assert_eq!(url, server.url(&format!("/letters/{}", code.replace('-', ""))));
        let page = server.client.get(&url).header("accept-language", "en-GB,en;q=0.9").send().await.unwrap();
        assert_eq!(page.status(), 200);
        assert_eq!(page.headers()["content-language"], "en");
        let html = page.text().await.unwrap();
        assert!(html.contains("data-status=\"valid\""), "{html}");
        let masked = masked(&donor.name);
        assert!(html.contains(&masked) && !html.contains(&donor.name), "only the masked name: {html}");
        assert!(html.contains(&day(10)) && html.contains(&day(16)) && html.contains("Sichuan"));
        assert!(!html.contains(EMPLOYER) && !html.contains(&donor.national_id) && !html.contains("<script"));
        let chinese = server.client.get(format!("{url}?lang=zh-CN")).send().await.unwrap().text().await.unwrap();
        assert!(chinese.contains("有效") && chinese.contains("<svg"), "the switch, and the QR code as SVG");

        // The same answer from GraphQL, for anyone: only what the page shows.
        let anonymous = Mobile::new(&server);
        let checked = anonymous.call("CheckLeaveLetter", json!({ "code": code.to_lowercase() })).await;
        let check = checked["leaveLetterCheck"].as_object().unwrap();
        let keys: Vec<&str> = check.keys().map(String::as_str).collect();
        assert_eq!(keys, ["branchNameEn", "branchNameZh", "donorName", "issuedAt", "periods", "status"]);
        assert_eq!(check["status"], "VALID");
        assert_eq!(check["donorName"], masked.as_str());

        // The donor sees the checks: three so far, and when.
        let mine = donor.phone.call("MyLeaveLetters", json!({})).await;
        assert_eq!(mine["myLeaveLetters"][0]["checkCount"], 3);
        let checks = donor.phone.call("LeaveLetterChecks", json!({ "letterId": id })).await;
        assert_eq!(checks["leaveLetterChecks"].as_array().unwrap().len(), 3);

        // Unknown and malformed codes: a 404 page that names no one, never a 500.
        let unknown = api::domain::letter::LetterCode::generate();
        let missing = server.client.get(server.url(&format!("/letters/{}", unknown.expose()))).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        let missing = missing.text().await.unwrap();
        assert!(missing.contains("未找到此证明") && !missing.contains(&masked));
        for malformed in ["x", "%FF%FE", "ABCD-EFGH", &"Z".repeat(500), "..%2F..%2Fetc"] {
            let response = server.client.get(server.url(&format!("/letters/{malformed}"))).send().await.unwrap();
            assert_eq!(response.status(), 404, "{malformed}");
        }
        let unknown_check = anonymous.send("CheckLeaveLetter", json!({ "code": unknown.grouped() })).await;
        assert_eq!(error_codes(&unknown_check), ["NOT_FOUND"]);

        // A reissue supersedes; the branch revokes; the employer's page says which.
        let reissued = donor.phone.call("ReissueLeaveLetter", json!({ "letterId": id, "input": scenario_6("en", None)["input"].clone() })).await;
        assert_eq!(reissued["reissueLeaveLetter"]["language"], "en");
        let old = server.client.get(&url).header("accept-language", "en").send().await.unwrap().text().await.unwrap();
        assert!(old.contains("data-status=\"superseded\""), "{old}");
        let new_id = reissued["reissueLeaveLetter"]["id"].as_str().unwrap().to_owned();
        let new_code = reissued["reissueLeaveLetter"]["code"].as_str().unwrap().replace('-', "");
        coordinator.call("RevokeLeaveLetter", json!({ "letterId": new_id })).await;
        let revoked = server.client.get(server.url(&format!("/letters/{new_code}"))).header("accept-language", "en").send().await.unwrap();
        assert_eq!(revoked.status(), 200);
        let revoked = revoked.text().await.unwrap();
        assert!(revoked.contains("data-status=\"revoked\"") && revoked.contains("Revoked"), "{revoked}");
        let gone = donor.phone.send("LeaveLetterDownload", json!({ "letterId": new_id })).await;
        assert_eq!(error_codes(&gone), ["CONFLICT"], "a revoked letter is not downloaded");
    }

    async fn an_employer_s_browser_reads_the_page_the_qr_code_opens(db) {
        let fonts = run("fc-list", &[":lang=zh", "family"]).await;
        assert!(!fonts.trim().is_empty(), "a Chinese font is visible to Chromium: scripts/test.sh installs fonts-wqy-microhei");
        let (app, server) = letters_app(&db, |_| {}).await;
        let (donor, coordinator) = donor(&app, &server, 62).await;
        let asked = donor.phone.call("RequestLeaveLetter", scenario_6("zh-CN", Some(EMPLOYER))).await;
        let id = asked["requestLeaveLetter"]["id"].as_str().unwrap().to_owned();
        let (pdf, _) = download(&server, &donor.phone, &id).await;
        let url = qr_url(&pdf, &format!("browser-{}", backend(&db))).await;

        let dir = output_dir();
        let dom = chromium(&url, &dir.join(format!("valid-{}.png", backend(&db)))).await;
        assert!(dom.contains("data-status=\"valid\""), "{dom}");
        assert!(dom.contains("有效"), "in the browser's language");
        let masked = masked(&donor.name);
        assert!(dom.contains(&masked) && !dom.contains(&donor.name));
        let collection = in_days(14);
        assert!(dom.contains(&collection.format("%Y年%-m月%-d日").to_string()), "{dom}");
        assert!(dom.contains("四川"), "the branch: {dom}");

        coordinator.call("RevokeLeaveLetter", json!({ "letterId": id })).await;
        let dom = chromium(&url, &dir.join(format!("revoked-{}.png", backend(&db)))).await;
        assert!(dom.contains("data-status=\"revoked\"") && dom.contains("已撤销"), "{dom}");
    }

    async fn bad_input_names_the_field_and_stores_nothing(db) {
        let (app, server) = letters_app(&db, |_| {}).await;
        let (donor, _) = donor(&app, &server, 63).await;
        let with = |periods: Value, employer: Value, language: &str| {
            json!({ "input": { "periods": periods, "employer": employer, "language": language } })
        };
        let good = scenario_6("both", None)["input"]["periods"].clone();
        let cases = [
            (with(json!([{ "purpose": "COLLECTION", "from": in_days(15), "to": in_days(15) }]), json!(EMPLOYER), "en"), "input.periods.0.from"),
            (with(json!([{ "purpose": "MEDICAL_EXAM", "from": in_days(3), "to": in_days(3) }]), json!(EMPLOYER), "en"), "input.periods.0.from"),
            (with(json!([{ "purpose": "MOBILISATION", "from": in_days(7), "to": in_days(13) }]), json!(EMPLOYER), "en"), "input.periods.0.from"),
            (with(json!([
                { "purpose": "COLLECTION", "from": in_days(14), "to": in_days(14) },
                { "purpose": "REST", "from": in_days(15), "to": in_days(17) },
            ]), json!(EMPLOYER), "en"), "input.periods.1.to"),
            (with(good.clone(), json!("   "), "en"), "input.employer"),
            (with(good.clone(), json!("公".repeat(101)), "en"), "input.employer"),
            (with(good.clone(), Value::Null, "en"), "input.employer"),
            (with(good.clone(), json!(EMPLOYER), "fr"), "input.language"),
            (with(json!([]), json!(EMPLOYER), "en"), "input.periods"),
        ];
        for (input, field) in cases {
            let refused = donor.phone.send("RequestLeaveLetter", input.clone()).await;
            assert_eq!((error_codes(&refused), field_of(&refused)), (vec!["BAD_USER_INPUT".to_owned()], Some(field)), "{input}");
        }
        assert_eq!(letters_of(&app).await, 0, "nothing is stored");

        // With an employer on the profile, the letter may leave it out.
        donor.phone.call("UpdateMyProfile", json!({ "input": { "employer": EMPLOYER } })).await;
        let asked = donor.phone.call("RequestLeaveLetter", scenario_6("zh-CN", None)).await;
        assert_eq!(asked["requestLeaveLetter"]["employer"], EMPLOYER);
    }

    async fn another_volunteer_or_branch_cannot_get_download_or_revoke_a_letter(db) {
        let (app, server) = letters_app(&db, |_| {}).await;
        let (donor, coordinator) = donor(&app, &server, 64).await;
        let asked = donor.phone.call("RequestLeaveLetter", scenario_6("en", Some(EMPLOYER))).await;
        let id = asked["requestLeaveLetter"]["id"].as_str().unwrap().to_owned();

        let stranger = available(&app, 65).await;
        let mut other = Mobile::new(&server);
        other.sign_in(&app, &stranger.phone).await;
        assert_eq!(other.call("MyLeaveLetters", json!({})).await["myLeaveLetters"], json!([]));
        for (document, variables) in [
            ("LeaveLetterDownload", json!({ "letterId": id })),
            ("RevokeLeaveLetter", json!({ "letterId": id })),
            ("LeaveLetterChecks", json!({ "letterId": id })),
            ("ReissueLeaveLetter", json!({ "letterId": id, "input": scenario_6("en", Some(EMPLOYER))["input"].clone() })),
        ] {
            let refused = other.send(document, variables).await;
            assert_eq!(error_codes(&refused), ["NOT_FOUND"], "{document}: {refused}");
        }
        let no_case = other.send("RequestLeaveLetter", scenario_6("en", Some(EMPLOYER))).await;
        assert_eq!(error_codes(&no_case), ["NOT_FOUND"], "a volunteer without a case gets no letter");

        let guangdong = Desk::staff(&server, app.staff_token("branch_coordinator", "44").await);
        for (document, variables) in [
            ("RevokeLeaveLetter", json!({ "letterId": id })),
            ("CaseLeaveLetters", json!({ "caseId": donor.case })),
            ("IssueLeaveLetter", json!({ "caseId": donor.case, "input": scenario_6("en", Some(EMPLOYER))["input"].clone() })),
        ] {
            let refused = guangdong.send(document, variables).await;
            assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{document}: {refused}");
        }
        let recruiter = Desk::staff(&server, app.staff_token("branch_recruiter", "51").await);
        let refused = recruiter.send("RevokeLeaveLetter", json!({ "letterId": id })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"], "recruiters read letters, they do not revoke them");
        let listed = recruiter.call("CaseLeaveLetters", json!({ "caseId": donor.case })).await;
        assert!(listed["caseLeaveLetters"][0]["code"].is_null(), "staff lists hold no code");

        // The branch's coordinator issues one and downloads it, audited; links expire.
        let issued = coordinator.call("IssueLeaveLetter", json!({ "caseId": donor.case, "input": scenario_6("zh-CN", Some(EMPLOYER))["input"].clone() })).await;
        assert_eq!(issued["issueLeaveLetter"]["issuedByStaff"], true);
        let link = donor.phone.call("LeaveLetterDownload", json!({ "letterId": issued["issueLeaveLetter"]["id"] })).await;
        let path = link["leaveLetterDownload"]["path"].as_str().unwrap().to_owned();
        letter_download::Entity::update_many()
            .col_expr(letter_download::Column::ExpiresAt, Expr::value(chrono::Utc::now() - chrono::Duration::seconds(1)))
            .exec(app.app.db())
            .await
            .unwrap();
        let expired = server.client.get(server.url(&path)).send().await.unwrap();
        assert_eq!(expired.status(), 404, "an expired link is gone");
        let unknown = server.client.get(server.url("/letters/download/not-a-token")).send().await.unwrap();
        assert_eq!(unknown.status(), 404);
        let purged = app.app.services().letters.purge_links(chrono::Utc::now()).await.unwrap();
        assert_eq!(purged, 1);
        let audited = entity::audit_event::Entity::find()
            .filter(entity::audit_event::Column::Action.eq("leave_letter.issued"))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(audited, 2);
    }

    async fn the_check_page_is_rate_limited_per_client_address(db) {
        let (app, server) = letters_app(&db, |settings| settings.letters.checks_per_minute = 3).await;
        let (donor, _) = donor(&app, &server, 66).await;
        let asked = donor.phone.call("RequestLeaveLetter", scenario_6("en", Some(EMPLOYER))).await;
        let code = asked["requestLeaveLetter"]["code"].as_str().unwrap().to_owned();
        let url = server.url(&format!("/letters/{code}"));
        for _ in 0..3 {
            assert_eq!(server.client.get(&url).send().await.unwrap().status(), 200);
        }
        let busy = server.client.get(&url).send().await.unwrap();
        assert_eq!(busy.status(), 429);
        assert!(busy.headers().contains_key("retry-after"));
        let mine = donor.phone.call("MyLeaveLetters", json!({})).await;
        assert_eq!(mine["myLeaveLetters"][0]["checkCount"], 3, "a refused check is not counted");

        // Long after its last day, a letter reads as expired, and is no longer downloaded.
        leave_letter::Entity::update_many()
            .col_expr(leave_letter::Column::LastDay, Expr::value(in_days(-91)))
            .exec(app.app.db())
            .await
            .unwrap();
        let mine = donor.phone.call("MyLeaveLetters", json!({})).await;
        assert_eq!(mine["myLeaveLetters"][0]["status"], "EXPIRED");
        let id = mine["myLeaveLetters"][0]["id"].clone();
        let refused = donor.phone.send("LeaveLetterDownload", json!({ "letterId": id })).await;
        assert_eq!(error_codes(&refused), ["CONFLICT"]);
    }

    async fn a_case_at_another_centre_gets_letters_from_the_dates_its_coordinator_planned(db) {
        let (app, server) = letters_app(&db, |_| {}).await;
        let coordinator = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let volunteer = available(&app, 67).await;
        let mut phone = Mobile::new(&server);
        phone.sign_in(&app, &volunteer.phone).await;
        let (case, _) = app.open_case(volunteer.id, "51", api::service::cases::Requester::Centre("华西".into())).await;
        let exam = json!({ "input": {
            "periods": [{ "purpose": "MEDICAL_EXAM", "from": day(5), "to": day(5) }],
            "employer": EMPLOYER, "language": "zh-CN",
        } });
        let unplanned = phone.send("RequestLeaveLetter", exam.clone()).await;
        assert_eq!(field_of(&unplanned), Some("input.periods.0.from"), "no exam day yet: {unplanned}");

        // A collection before the exam, or a day before the case opened, changes nothing.
        for (input, field) in [
            (json!({ "examOn": day(5), "collectionOn": day(5) }), "input.collectionOn"),
            (json!({ "examOn": day(-3) }), "input.examOn"),
        ] {
            let refused = coordinator.send("PlanCaseDates", json!({ "caseId": case, "input": input })).await;
            assert_eq!((error_codes(&refused), field_of(&refused)), (vec!["BAD_USER_INPUT".to_owned()], Some(field)));
        }
        let recruiter = Desk::staff(&server, app.staff_token("branch_recruiter", "51").await);
        let refused = recruiter.send("PlanCaseDates", json!({ "caseId": case, "input": { "examOn": day(5) } })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);
        let guangdong = Desk::staff(&server, app.staff_token("branch_coordinator", "44").await);
        let refused = guangdong.send("PlanCaseDates", json!({ "caseId": case, "input": { "examOn": day(5) } })).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);

        let planned = coordinator
            .call("PlanCaseDates", json!({ "caseId": case, "input": { "examOn": day(5), "collectionOn": day(20) } }))
            .await;
        assert_eq!(planned["planCaseDates"]["plannedExamOn"], day(5));
        assert_eq!(planned["planCaseDates"]["plannedCollectionOn"], day(20));
        let letter = phone.call("RequestLeaveLetter", exam).await;
        assert_eq!(letter["requestLeaveLetter"]["periods"][0]["purpose"], "MEDICAL_EXAM");
        let collection = phone.call("RequestLeaveLetter", scenario_6_around(20)).await;
        assert_eq!(collection["requestLeaveLetter"]["periods"][1]["from"], day(20));
    }
}
