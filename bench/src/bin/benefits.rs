//! Blood-priority checks and redemptions on PostgreSQL, through the service, beside the bare
//! SQL at the heart of each on the same pool:
//! - a check (the throttle, the code's and the ID number's blind indexes, the rule, the masked
//!   name) beside the bare lookup by the code's index;
//! - a redemption of 1 ml (the throttle, the lookup, the idempotency key, the conditional
//!   update, the redemption row, the donor's notification, the webhook, the audit row, the
//!   stored answer, in one transaction) beside the bare conditional update;
//! - `--concurrency` hospitals' systems redeeming from one balance at once, as redemptions per
//!   second beside the bare updates at the same concurrency.
//!
//! ```text
//! cargo run --release -p bench --bin benefits -- [--samples 500] [--concurrency 8]
//! ```
//!
//! PostgreSQL comes from `TEST_DATABASE_ADMIN_URL`, as in the tests; each run gets a fresh
//! database and drops it.

#![allow(clippy::print_stdout, clippy::cast_precision_loss, clippy::unwrap_used, clippy::expect_used)] // a report

use std::time::Instant;

use api::domain::benefit::{BenefitKind, Holder, RelationshipProof};
use api::domain::donation::Stage;
use api::domain::{NationalId, Relationship, Stance};
use api::service::benefits::{NewBeneficiary, NewRule, Redeem, RuleTerms};
use api::service::cases::Requester;
use api::service::volunteer::NewFamilyMember;
use api::service::{NewHospital, PartnerHospital, Principal, StaffRole};
use bench::{arg, measure, peak_rss_mib, raw, report};
use chrono::{Duration, NaiveDate, Utc};
use registry_tests::{Backend, TestApp, run};
use sea_orm::{DbBackend, Statement};
use serde_json::Value;
use uuid::Uuid;

#[tokio::main]
async fn main() {
    let samples = arg("samples", 500);
    let concurrency = arg("concurrency", 8);
    run(Backend::Postgres, move |db| async move {
        let app = db
            .app_with(|settings| {
                settings.database.max_connections = 32;
                settings.messaging.workers = 0;
            })
            .await;
        let (hospital, caller) = hospital(&app).await;
        let (entitlement, code, father) = entitlement(&app).await;
        let benefits = &app.app.services().benefits;
        let pool = app.app.db();
        let code_index = {
            let parsed = api::domain::benefit::RedemptionCode::parse(&code).unwrap();
            app.app.services().keys.blind_index.code(&parsed)
        };

        let check = measure(samples, || async {
            benefits.check(&hospital, &code, &father).await.unwrap();
            Value::Null
        })
        .await;
        let lookup = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT * FROM entitlement WHERE code_index = $1",
            [code_index.into()],
        );
        let bare_check = measure(samples, || raw(pool, lookup.clone())).await;
        report("check a code with the holder's ID number (ms, p50 / p95)", &check, &bare_check);

        let key = std::sync::atomic::AtomicUsize::new(0);
        let redeem_one = || async {
            let n = key.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let input = Redeem {
                code: code.clone(),
                national_id: father.clone(),
                volume_ml: Some(1),
                uses: None,
                proof: RelationshipProof::HouseholdRegister,
            };
            benefits.redeem(&hospital, &caller, &format!("bench-{n}"), input, None).await.unwrap();
            Value::Null
        };
        let take = Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE entitlement SET remaining_ml = remaining_ml - 1, version = version + 1 \
             WHERE id = $1 AND status = 'active' AND remaining_ml >= 1",
            [entitlement.into()],
        );
        let bare_take = || raw(pool, take.clone());
        let redeem = measure(samples, redeem_one).await;
        let bare_redeem = measure(samples, bare_take).await;
        report("redeem 1 ml under an idempotency key (ms, p50 / p95)", &redeem, &bare_redeem);

        let per_task = samples / concurrency;
        let started = Instant::now();
        futures::future::join_all((0..concurrency).map(|_| async {
            for _ in 0..per_task {
                redeem_one().await;
            }
        }))
        .await;
        let service_rate = (per_task * concurrency) as f64 / started.elapsed().as_secs_f64();
        let started = Instant::now();
        futures::future::join_all((0..concurrency).map(|_| async {
            for _ in 0..per_task {
                bare_take().await;
            }
        }))
        .await;
        let bare_rate = (per_task * concurrency) as f64 / started.elapsed().as_secs_f64();
        println!(
            "{concurrency} systems redeeming from one balance at once\n  service {service_rate:>8.0} /s    bare SQL {bare_rate:>8.0} /s    ratio {:.2}",
            service_rate / bare_rate
        );
        println!("  peak RSS of this process: {} MiB", peak_rss_mib());
    })
    .await;
}

/// A partner hospital, as its capability and its principal.
async fn hospital(app: &TestApp) -> (PartnerHospital, Principal) {
    let admin = Principal::Staff { id: Uuid::now_v7(), role: StaffRole::NationalAdmin, branch: "11".into() };
    let new = NewHospital {
        name: "基准医院".into(),
        branch_code: "51".into(),
        contact_name: "王".into(),
        contact_phone: "13800000001".into(),
    };
    let services = app.app.services();
    let registered = services.hospitals.register(&admin.national_admin().unwrap(), &admin, new, None).await.unwrap();
    let caller = Principal::Hospital { id: registered.id, branch: "51".into() };
    (caller.partner_hospital().unwrap(), caller)
}

/// A father's entitlement of 5000 ml (a bench rule), its code and his ID number.
async fn entitlement(app: &TestApp) -> (Uuid, String, String) {
    let services = app.app.services();
    let coordinator = app.coordinator("51").await;
    let rule = NewRule {
        branch_code: "51".into(),
        rule_key: "relatives-same-volume".into(),
        title_zh: "基准".into(),
        title_en: "Bench".into(),
        terms: RuleTerms {
            holders: vec![Holder::Parent],
            kind: BenefitKind::BloodVolume,
            volume_multiple: None,
            fixed_ml: Some(5_000),
            uses: None,
            lifetime_above_ml: None,
            starts_after_days: 0,
            valid_years: Some(3),
            applies_until: None,
        },
        legal_basis: "基准".into(),
    };
    services.benefits.define(&coordinator.coordinator().unwrap(), &coordinator, rule, None).await.unwrap();
    let volunteer = app.register_volunteer(1, "51").await;
    let (case, coordinator) = app.open_case(volunteer.id, "51", Requester::Centre("基准".into())).await;
    let today = (Utc::now() + Duration::hours(8)).date_naive();
    let stages = [
        Stage::CtRequested,
        Stage::CtSampleTaken,
        Stage::CtResult,
        Stage::InfoSession,
        Stage::ExamBooked,
        Stage::ExamPassed,
        Stage::Clearance,
        Stage::GcsfStart,
        Stage::Collection,
    ];
    for stage in stages {
        let ml = (stage == Stage::Collection).then_some(400);
        let reach = coordinator.coordinator().unwrap();
        services.cases.record_step(&reach, &coordinator, case, (stage, today, ml), None).await.unwrap();
    }
    let me = Principal::Volunteer { id: volunteer.id }.own_record().unwrap();
    let member = NewFamilyMember::parse(Relationship::Parent, Some("张建国"), None, Stance::Supportive).unwrap();
    let member = services.family.record(&me, member).await.unwrap();
    let father = NationalId::from_parts("510104", NaiveDate::from_ymd_opt(1962, 3, 14).unwrap(), 31).unwrap();
    let named = NewBeneficiary {
        family_member_id: member,
        relationship: Relationship::Parent,
        name: "张建国".into(),
        national_id: father.expose().to_owned(),
    };
    let views = services.benefits.name_beneficiary(&me, named, None).await.unwrap();
    (views[0].id, views[0].code.clone().unwrap(), father.expose().to_owned())
}
