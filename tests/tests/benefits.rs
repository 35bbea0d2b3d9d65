//! Donor benefits, played over HTTP with the documents of `contract/mobile/`, `contract/staff/`
//! and `contract/hospital/`: scenario 8, concurrent redemptions that never overdraw, rule
//! versions that leave earlier grants alone, bad input that stores nothing, who is refused,
//! the throttle on guessing, and the words the templates may not use.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use api::domain::NationalId;
use chrono::{Duration, NaiveDate};
use entity::{audit_event, benefit_grant, benefit_rule, entitlement, idempotency_key, message_template, redemption};
use registry_tests::desk::{Desk, available, partner_hospital};
use registry_tests::mobile::Mobile;
use registry_tests::receiver::{Receiver, register};
use registry_tests::{Server, TestApp, both_backends, error_codes, field_of, in_days};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};

/// The father's resident ID number: born 1962 in Chengdu.
fn father_id() -> String {
    NationalId::from_parts("510104", NaiveDate::from_ymd_opt(1962, 3, 14).unwrap(), 31).unwrap().expose().to_owned()
}

const FATHER_PHONE: &str = "+8613800000031";

/// A donor whose case reached collection of `ml`, signed in on their phone, with their father
/// on the family list.
struct Donor<'a> {
    volunteer: registry_tests::Registered,
    case: String,
    phone: Mobile<'a>,
    father: String,
}

async fn donor<'a>(app: &TestApp, server: &'a Server, desk: &Desk<'_>, n: u32, ml: i32) -> Donor<'a> {
    let volunteer = available(app, n).await;
    let mut phone = Mobile::new(server);
    phone.sign_in(app, &volunteer.phone).await;
    let family = json!({ "input": {
        "relationship": "PARENT", "name": "张建国", "phone": FATHER_PHONE, "stance": "SUPPORTIVE",
    } });
    let recorded = phone.call("RecordFamilyMember", family).await;
    let father = recorded["recordFamilyMember"]["familyMembers"][0]["id"].as_str().unwrap().to_owned();
    let case = collect(app, desk, volunteer.id, ml).await;
    Donor { volunteer, case, phone, father }
}

/// Opens a case for the volunteer and records its steps to a collection of `ml` today.
async fn collect(app: &TestApp, desk: &Desk<'_>, volunteer: uuid::Uuid, ml: i32) -> String {
    let (case, _) = app.open_case(volunteer, "51", api::service::cases::Requester::Centre("华西".into())).await;
    let case = case.to_string();
    let stages = ["CT_REQUESTED", "CT_SAMPLE_TAKEN", "CT_RESULT", "INFO_SESSION", "EXAM_BOOKED", "EXAM_PASSED"];
    for stage in stages.iter().chain(&["CLEARANCE", "GCSF_START"]) {
        desk.call("RecordCaseStep", json!({ "caseId": case, "input": { "stage": stage, "on": in_days(0) } })).await;
    }
    let collection = json!({ "caseId": case, "input": { "stage": "COLLECTION", "on": in_days(0), "collectedMl": ml } });
    desk.call("RecordCaseStep", collection).await;
    case
}

/// Moves a case past collection to follow-up.
async fn follow_up(desk: &Desk<'_>, case: &str) {
    for stage in ["TRANSPLANT", "FOLLOW_UP"] {
        desk.call("RecordCaseStep", json!({ "caseId": case, "input": { "stage": stage, "on": in_days(0) } })).await;
    }
}

fn name_father(donor: &Donor<'_>, relationship: &str, national_id: &str) -> Value {
    json!({ "input": {
        "familyMemberId": donor.father, "relationship": relationship, "name": "张建国", "nationalId": national_id,
    } })
}

fn redeem(key: &str, code: &str, national_id: &str, ml: i32) -> Value {
    json!({ "idempotencyKey": key, "input": {
        "code": code, "nationalId": national_id, "volumeMl": ml, "proof": "HOUSEHOLD_REGISTER",
    } })
}

async fn count<E: EntityTrait>(app: &TestApp) -> u64
where
    E::Model: Sync,
{
    E::find().count(app.app.db()).await.unwrap()
}

async fn audits(app: &TestApp, action: &str) -> u64 {
    audit_event::Entity::find().filter(audit_event::Column::Action.eq(action)).count(app.app.db()).await.unwrap()
}

/// The father's code, once named.
async fn father_code(donor: &Donor<'_>) -> String {
    let named = donor.phone.call("NameBeneficiary", name_father(donor, "PARENT", &father_id())).await;
    named["nameBeneficiary"][0]["code"].as_str().unwrap().to_owned()
}

both_backends! {
    async fn scenario_8_a_fathers_blood_priority_is_granted_checked_and_redeemed_once(db) {
        let app = db.app().await;
        app.set_quiet_hours("51", 0, 0).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (_, token) = partner_hospital(&server, &admin, "四川大学华西医院").await;
        let (_, other_token) = partner_hospital(&server, &admin, "成都市第三人民医院").await;
        let hospital = Desk::hospital(&server, token);
        let other = Desk::hospital(&server, other_token);
        let (hooks, url) = Receiver::start().await;
        register(&hospital, &hooks, &url).await;

        // Branch 51's rules multiply the volume: collection without it is refused, and nothing moves.
        let volunteer = available(&app, 9).await;
        let (case, _) = app.open_case(volunteer.id, "51", api::service::cases::Requester::Centre("华西".into())).await;
        for stage in ["CT_REQUESTED", "CT_SAMPLE_TAKEN", "CT_RESULT", "INFO_SESSION", "EXAM_BOOKED", "EXAM_PASSED", "CLEARANCE", "GCSF_START"] {
            desk.call("RecordCaseStep", json!({ "caseId": case, "input": { "stage": stage, "on": in_days(0) } })).await;
        }
        let bare = desk.send("RecordCaseStep", json!({ "caseId": case, "input": { "stage": "COLLECTION", "on": in_days(0) } })).await;
        assert_eq!((error_codes(&bare), field_of(&bare)), (vec!["BAD_USER_INPUT".to_owned()], Some("input.collectedMl")));
        assert_eq!(count::<entitlement::Entity>(&app).await, 0);

        // Collection of 500 ml grants the donor's own entitlements under Sichuan's rules.
        let donor = donor(&app, &server, &desk, 1, 500).await;
        let granted = desk.call("CaseEntitlements", json!({ "caseId": donor.case })).await;
        let granted = granted["caseEntitlements"].as_array().unwrap();
        let terms: Vec<(&str, Option<i64>, Option<&str>)> = granted
            .iter()
            .map(|e| (e["rule"]["ruleKey"].as_str().unwrap(), e["grantedMl"].as_i64(), e["expiresOn"].as_str()))
            .collect();
        let three_years = (in_days(0).checked_add_months(chrono::Months::new(36)).unwrap() - Duration::days(1)).to_string();
        assert_eq!(
            terms,
            [("donor-after-three-years", Some(500), None), ("donor-threefold", Some(1500), Some(three_years.as_str()))],
            "3× for 3 years, the same volume after; not lifetime below 800 ml"
        );
        assert!(granted.iter().all(|e| e["holder"] == "DONOR" && e["code"].is_null()), "staff never see codes");

        // The donor sees them with their codes and the words that say what they are.
        let mine = donor.phone.call("MyBenefits", json!({})).await;
        assert!(mine["myBenefits"]["aboutZh"].as_str().unwrap().contains("感谢"));
        assert_eq!(mine["myBenefits"]["entitlements"].as_array().unwrap().len(), 2);

        // The donor names their father: his own entitlement, with its code.
        let named = donor.phone.call("NameBeneficiary", name_father(&donor, "PARENT", &father_id())).await;
        let father = &named["nameBeneficiary"][0];
        assert_eq!((father["holder"].as_str(), father["grantedMl"].as_i64(), father["holderName"].as_str()), (Some("PARENT"), Some(500), Some("张**")));
        let code = father["code"].as_str().unwrap().to_owned();
        assert_eq!(code.len(), 14, "XXXX-XXXX-XXXX");
        assert_eq!(audits(&app, "entitlement.beneficiary_named").await, 1);

        // …and sends it to him by SMS: the same code reaches his phone.
        let sent = donor.phone.call("SendEntitlementCode", json!({ "entitlementId": father["id"] })).await;
        assert_eq!(sent["sendEntitlementCode"], "138****0031");
        app.deliver(&["entitlement_code"]).await;
        let sms = app.app.messaging().development_sms().unwrap().recent(FATHER_PHONE, 1).pop().unwrap();
        assert_eq!(sms.template_key, "entitlement_code");
        assert!(sms.params.contains(&code), "the SMS carries the code the app shows");

        // The hospital checks the code with his ID number, lowercase and without hyphens as a clerk may type it.
        let typed = code.replace('-', "").to_lowercase();
        let checked = hospital.call("CheckEntitlement", json!({ "code": typed, "nationalId": father_id() })).await;
        let checked = &checked["checkEntitlement"];
        assert_eq!((checked["valid"].as_bool(), checked["holder"].as_str(), checked["holderName"].as_str()), (Some(true), Some("PARENT"), Some("张**")));
        assert_eq!(checked["remainingMl"], 500);
        assert!(checked["legalBasis"].as_str().unwrap().contains("第十五条"));

        // It redeems 400 ml and sees the balance fall; a retry with the key changes nothing.
        let first = hospital.call("RedeemEntitlement", redeem("r-1", &code, &father_id(), 400)).await;
        assert_eq!(first["redeemEntitlement"]["remainingMl"], 100);
        let again = hospital.call("RedeemEntitlement", redeem("r-1", &code, &father_id(), 400)).await;
        assert_eq!(again, first, "a retried redemption is applied once");
        let checked = hospital.call("CheckEntitlement", json!({ "code": code, "nationalId": father_id() })).await;
        assert_eq!(checked["checkEntitlement"]["remainingMl"], 100);

        // A second 400 ml is beyond the balance: refused, nothing taken.
        let beyond = hospital.send("RedeemEntitlement", redeem("r-2", &code, &father_id(), 400)).await;
        assert_eq!((error_codes(&beyond), field_of(&beyond)), (vec!["CONFLICT".to_owned()], Some("input.volumeMl")));
        assert_eq!(count::<redemption::Entity>(&app).await, 1);

        // The donor is told, and sees the redemption in the history.
        app.deliver(&["entitlement_redeemed"]).await;
        let notes = donor.phone.call("Notifications", json!({ "first": 10 })).await;
        let texts = notes.to_string();
        assert!(texts.contains("四川大学华西医院") && texts.contains("400毫升") && texts.contains("100毫升"), "{texts}");
        let mine = donor.phone.call("MyBenefits", json!({})).await;
        let fathers: Vec<&Value> = mine["myBenefits"]["entitlements"].as_array().unwrap().iter().filter(|e| e["holder"] == "PARENT").collect();
        assert_eq!(fathers[0]["redemptions"][0]["volumeMl"], 400);

        // The hospital's system gets a signed receipt; it lists its redemption, the other hospital sees none.
        let events = hooks.wait_for(1).await;
        assert_eq!(events[0]["type"], "entitlement.redeemed");
        assert_eq!(events[0]["data"]["redemptionId"], first["redeemEntitlement"]["id"]);
        assert!(!events[0].to_string().contains("张"), "the event names no one");
        let own = hospital.call("EntitlementRedemptions", json!({ "first": 100 })).await; // the largest page, within the cost limit
        assert_eq!(own["entitlementRedemptions"].as_array().unwrap().len(), 1);
        for first in [0, 101] {
            let refused = hospital.send("EntitlementRedemptions", json!({ "first": first })).await;
            assert_eq!((error_codes(&refused), field_of(&refused)), (vec!["BAD_USER_INPUT".to_owned()], Some("first")));
        }
        let others = other.call("EntitlementRedemptions", json!({})).await;
        assert_eq!(others["entitlementRedemptions"], json!([]), "another hospital cannot see a redemption it did not make");

        // Staff revoke it, with a reason: the check says so, and it is audited.
        let revoked = desk.call("RevokeEntitlement", json!({ "entitlementId": father["id"], "reason": "亲属关系证明有误" })).await;
        assert_eq!(revoked["revokeEntitlement"]["unusable"], "REVOKED");
        let checked = hospital.call("CheckEntitlement", json!({ "code": code, "nationalId": father_id() })).await;
        assert_eq!((checked["checkEntitlement"]["valid"].as_bool(), checked["checkEntitlement"]["unusable"].as_str()), (Some(false), Some("REVOKED")));
        assert_eq!(audits(&app, "entitlement.revoked").await, 1);
        let twice = desk.send("RevokeEntitlement", json!({ "entitlementId": father["id"], "reason": "再次" })).await;
        assert_eq!(error_codes(&twice), ["CONFLICT"]);

        // Once the case is in follow-up the donor may withdraw: every entitlement and grant is
        // erased, and the hospital's record of what it redeemed stays, naming no one.
        follow_up(&desk, &donor.case).await;
        let notice = donor.phone.call("WithdrawalNotice", json!({})).await;
        let confirmation = notice["withdrawalNotice"]["confirmation"].clone();
        donor.phone.call("Withdraw", json!({ "cause": "PERSONAL", "confirmation": confirmation })).await;
        let left = entitlement::Entity::find().filter(entitlement::Column::VolunteerId.eq(donor.volunteer.id)).count(app.app.db()).await.unwrap();
        let grants = benefit_grant::Entity::find().filter(benefit_grant::Column::VolunteerId.eq(donor.volunteer.id)).count(app.app.db()).await.unwrap();
        assert_eq!((left, grants), (0, 0), "withdrawal erases the benefits and the relatives' names and ID numbers");
        let own = hospital.call("EntitlementRedemptions", json!({})).await;
        let kept = &own["entitlementRedemptions"][0];
        assert_eq!((kept["volumeMl"].as_i64(), kept["holder"].is_null(), kept["holderName"].is_null()), (Some(400), true, true));
    }

    async fn twenty_concurrent_redemptions_of_100_ml_against_400_give_exactly_four(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (_, first_token) = partner_hospital(&server, &admin, "四川大学华西医院").await;
        let (_, second_token) = partner_hospital(&server, &admin, "成都市第三人民医院").await;
        let hospitals = [Desk::hospital(&server, first_token), Desk::hospital(&server, second_token)];
        let donor = donor(&app, &server, &desk, 1, 400).await;
        let code = father_code(&donor).await;

        // Two hospitals at once, ten calls each, every call with its own key.
        let calls = (0..20).map(|i| {
            let hospital = &hospitals[i % 2];
            let input = redeem(&format!("c-{i}"), &code, &father_id(), 100);
            async move { hospital.send("RedeemEntitlement", input).await }
        });
        let answers = futures::future::join_all(calls).await;
        let succeeded: Vec<&Value> = answers.iter().filter(|body| body.get("errors").is_none()).collect();
        let refused: Vec<Vec<String>> = answers.iter().map(error_codes).filter(|codes| !codes.is_empty()).collect();
        assert_eq!(succeeded.len(), 4, "{answers:?}");
        assert_eq!(refused, vec![vec!["CONFLICT".to_owned()]; 16], "the rest are refused, none with a server error");
        let mut left: Vec<i64> = succeeded.iter().map(|body| body["data"]["redeemEntitlement"]["remainingMl"].as_i64().unwrap()).collect();
        left.sort_unstable();
        assert_eq!(left, [0, 100, 200, 300], "each success saw the balance its own take left");
        assert_eq!(count::<redemption::Entity>(&app).await, 4);
        assert_eq!(count::<idempotency_key::Entity>(&app).await, 4, "a refused call keeps no key");

        // A retry of a success replays it and changes nothing.
        let replayed_key = answers.iter().position(|body| body.get("errors").is_none()).unwrap();
        let retry = hospitals[replayed_key % 2].send("RedeemEntitlement", redeem(&format!("c-{replayed_key}"), &code, &father_id(), 100)).await;
        assert_eq!(retry, answers[replayed_key]);
        assert_eq!(count::<redemption::Entity>(&app).await, 4);
        let row = entitlement::Entity::find().filter(entitlement::Column::Holder.eq("parent")).one(app.app.db()).await.unwrap().unwrap();
        assert_eq!(row.remaining_ml, Some(0));
    }

    async fn a_rule_changed_after_a_grant_leaves_that_grant_as_it_was(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let before = donor(&app, &server, &desk, 1, 300).await;

        // The branch changes its relatives' rule: twice the volume, for 5 years, siblings too.
        let change = json!({ "input": {
            "branchCode": "51", "ruleKey": "relatives-same-volume", "titleZh": "配偶、父母、子女及兄弟姐妹：五年内两倍于捐献量",
            "titleEn": "Spouse, parents, children and siblings: twice the donated volume within 5 years",
            "holders": ["SPOUSE", "PARENT", "CHILD", "SIBLING"], "kind": "BLOOD_VOLUME", "volumeMultiple": 2, "validYears": 5,
            "legalBasis": "分库管理委员会2026年第3号决定",
        } });
        let defined = desk.call("DefineBenefitRule", change).await;
        assert_eq!(defined["defineBenefitRule"]["version"], 2);
        let history = desk.call("BenefitRules", json!({ "branchCode": "51", "history": true })).await;
        let versions: Vec<(i64, bool)> = history["benefitRules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|rule| rule["ruleKey"] == "relatives-same-volume")
            .map(|rule| (rule["version"].as_i64().unwrap(), rule["supersededAt"].is_null()))
            .collect();
        assert_eq!(versions, [(1, false), (2, true)]);

        // The father of a donor who gave before the change gets version 1's terms, and a sibling is not covered by it.
        let sibling = before.phone.send("NameBeneficiary", name_father(&before, "SIBLING", &father_id())).await;
        assert_eq!((error_codes(&sibling), field_of(&sibling)), (vec!["BAD_USER_INPUT".to_owned()], Some("input.relationship")));
        let named = before.phone.call("NameBeneficiary", name_father(&before, "PARENT", &father_id())).await;
        let father = &named["nameBeneficiary"][0];
        assert_eq!(father["grantedMl"], 300);
        let mine = before.phone.call("MyBenefits", json!({})).await;
        let rule = mine["myBenefits"]["entitlements"].as_array().unwrap().iter().find(|e| e["holder"] == "PARENT").unwrap()["rule"].clone();
        assert_eq!(rule["version"], 1);

        // A donor who gives after the change is granted version 2.
        let after = donor(&app, &server, &desk, 2, 300).await;
        let named = after.phone.call("NameBeneficiary", name_father(&after, "PARENT", &father_id())).await;
        assert_eq!(named["nameBeneficiary"][0]["grantedMl"], 600);

        // The first donor gives again: the father, named once, is granted under version 2 for
        // this donation, and his first entitlement keeps version 1's terms.
        follow_up(&desk, &before.case).await;
        collect(&app, &desk, before.volunteer.id, 200).await;
        let mine = before.phone.call("MyBenefits", json!({})).await;
        let fathers: Vec<(i64, i64)> = mine["myBenefits"]["entitlements"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["holder"] == "PARENT")
            .map(|e| (e["rule"]["version"].as_i64().unwrap(), e["grantedMl"].as_i64().unwrap()))
            .collect();
        assert_eq!(fathers, [(1, 300), (2, 400)]);
    }

    async fn bad_input_names_its_field_and_stores_nothing(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (_, token) = partner_hospital(&server, &admin, "四川大学华西医院").await;
        let hospital = Desk::hospital(&server, token);
        let donor = donor(&app, &server, &desk, 1, 400).await;
        let code = father_code(&donor).await;
        let (rules, entitlements, redemptions, keys) = (
            count::<benefit_rule::Entity>(&app).await,
            count::<entitlement::Entity>(&app).await,
            count::<redemption::Entity>(&app).await,
            count::<idempotency_key::Entity>(&app).await,
        );

        let rule = |changes: Value| {
            let mut input = json!({
                "branchCode": "51", "ruleKey": "relatives-same-volume", "titleZh": "亲属", "titleEn": "Relatives",
                "holders": ["PARENT"], "kind": "BLOOD_VOLUME", "volumeMultiple": 1, "validYears": 3, "legalBasis": "条例",
            });
            input.as_object_mut().unwrap().extend(changes.as_object().unwrap().clone());
            json!({ "input": input })
        };
        let mut wrong_checksum = father_id();
        let last = if wrong_checksum.ends_with('0') { "1" } else { "0" };
        wrong_checksum.replace_range(17.., last);
        let cases: Vec<(&str, Value, &str, &str)> = vec![
            ("DefineBenefitRule", rule(json!({ "appliesUntil": in_days(-1) })), "BAD_USER_INPUT", "input.appliesUntil"),
            ("DefineBenefitRule", rule(json!({ "validYears": 0 })), "BAD_USER_INPUT", "input.validYears"),
            ("DefineBenefitRule", rule(json!({ "volumeMultiple": null })), "BAD_USER_INPUT", "input.volumeMultiple"),
            ("DefineBenefitRule", rule(json!({ "ruleKey": "Not A Key" })), "BAD_USER_INPUT", "input.ruleKey"),
            ("DefineBenefitRule", rule(json!({ "holders": "COUSIN" })), "BAD_USER_INPUT", "input.holders"),
            ("RedeemEntitlement", redeem("b-1", &code, &father_id(), -100), "BAD_USER_INPUT", "input.volumeMl"),
            ("RedeemEntitlement", redeem("b-2", &code, &father_id(), 0), "BAD_USER_INPUT", "input.volumeMl"),
            ("RedeemEntitlement", redeem("b-3", &code, &father_id(), 2_001), "BAD_USER_INPUT", "input.volumeMl"),
            ("RedeemEntitlement", redeem("b-4", "ABCD-EFGH", &father_id(), 100), "BAD_USER_INPUT", "input.code"),
            ("RedeemEntitlement", redeem("b-5", &code, &wrong_checksum, 100), "BAD_USER_INPUT", "input.nationalId"),
            ("CheckEntitlement", json!({ "code": "ABCD-EFGH-JKU!", "nationalId": father_id() }), "BAD_USER_INPUT", "code"),
            ("CheckEntitlement", json!({ "code": code, "nationalId": wrong_checksum }), "BAD_USER_INPUT", "nationalId"),
        ];
        for (document, variables, code, field) in cases {
            let client = if document == "DefineBenefitRule" { &desk } else { &hospital };
            let body = client.send(document, variables.clone()).await;
            assert_eq!((error_codes(&body), field_of(&body)), (vec![code.to_owned()], Some(field)), "{document} {variables}");
        }
        for (relationship, national_id, field) in [
            ("FRIEND", father_id(), "input.relationship"),
            ("SIBLING", father_id(), "input.relationship"),
            ("PARENT", wrong_checksum.clone(), "input.nationalId"),
            ("PARENT", donor.volunteer.national_id.clone(), "input.nationalId"),
        ] {
            let body = donor.phone.send("NameBeneficiary", name_father(&donor, relationship, &national_id)).await;
            assert_eq!((error_codes(&body), field_of(&body)), (vec!["BAD_USER_INPUT".to_owned()], Some(field)), "{relationship}");
        }
        assert_eq!(count::<benefit_rule::Entity>(&app).await, rules);
        assert_eq!(count::<entitlement::Entity>(&app).await, entitlements);
        assert_eq!(count::<redemption::Entity>(&app).await, redemptions);
        assert_eq!(count::<idempotency_key::Entity>(&app).await, keys);
    }

    async fn each_side_sees_only_its_own_and_rules_belong_to_their_branch(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let recruiter = Desk::staff(&server, app.staff_token("branch_recruiter", "51").await);
        let beijing = Desk::staff(&server, app.staff_token("branch_coordinator", "11").await);
        let donor = donor(&app, &server, &desk, 1, 400).await;
        let code = father_code(&donor).await;
        assert_eq!(code.len(), 14);
        let mine = donor.phone.call("MyBenefits", json!({})).await;
        let fathers = mine["myBenefits"]["entitlements"].as_array().unwrap().iter().find(|e| e["holder"] == "PARENT").unwrap()["id"].clone();

        // Another volunteer sees none of it and cannot send its code.
        let mut stranger = Mobile::new(&server);
        let other = available(&app, 2).await;
        stranger.sign_in(&app, &other.phone).await;
        let theirs = stranger.call("MyBenefits", json!({})).await;
        assert_eq!(theirs["myBenefits"]["entitlements"], json!([]));
        let send = stranger.send("SendEntitlementCode", json!({ "entitlementId": fathers })).await;
        assert_eq!(error_codes(&send), ["NOT_FOUND"]);

        // A recruiter reads rules and entitlements but cannot define a rule.
        recruiter.call("BenefitRules", json!({ "branchCode": "51" })).await;
        recruiter.call("CaseEntitlements", json!({ "caseId": donor.case })).await;
        let rule = json!({ "input": {
            "branchCode": "51", "ruleKey": "donor-recognition", "titleZh": "公园免费入园", "titleEn": "Free park entry",
            "holders": ["DONOR"], "kind": "RECOGNITION", "legalBasis": "成都市公园管理规定",
        } });
        let refused = recruiter.send("DefineBenefitRule", rule.clone()).await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"]);

        // Another branch's coordinator cannot change this branch's rules, read its case's entitlements, or revoke one.
        assert_eq!(error_codes(&beijing.send("DefineBenefitRule", rule.clone()).await), ["FORBIDDEN"]);
        assert_eq!(error_codes(&beijing.send("BenefitRules", json!({ "branchCode": "51" })).await), ["FORBIDDEN"]);
        assert_eq!(error_codes(&beijing.send("CaseEntitlements", json!({ "caseId": donor.case })).await), ["FORBIDDEN"]);
        let revoke = json!({ "entitlementId": fathers, "reason": "试图撤销" });
        assert_eq!(error_codes(&beijing.send("RevokeEntitlement", revoke).await), ["FORBIDDEN"]);
        assert_eq!(count::<benefit_rule::Entity>(&app).await, 4);

        // The branch's own coordinator may: a recognition, shown and never redeemed.
        let defined = desk.call("DefineBenefitRule", rule).await;
        assert_eq!((defined["defineBenefitRule"]["kind"].as_str(), defined["defineBenefitRule"]["version"].as_i64()), (Some("RECOGNITION"), Some(1)));
    }

    async fn one_hospitals_failed_checks_are_throttled_and_wrong_code_or_id_look_the_same(db) {
        let app = db.app_with(|settings| settings.benefits.failed_checks = 3).await;
        let server = app.serve().await;
        let admin = app.staff_token("national_admin", "11").await;
        let desk = Desk::staff(&server, app.staff_token("branch_coordinator", "51").await);
        let (_, token) = partner_hospital(&server, &admin, "四川大学华西医院").await;
        let (_, other_token) = partner_hospital(&server, &admin, "成都市第三人民医院").await;
        let guesser = Desk::hospital(&server, token);
        let other = Desk::hospital(&server, other_token);
        let donor = donor(&app, &server, &desk, 1, 400).await;
        let code = father_code(&donor).await;

        // A well-formed code of nobody, and the right code with someone else's ID number: the same answer.
        let nobody = loop {
            let candidate = api::domain::benefit::RedemptionCode::generate().grouped();
            if candidate != code {
                break candidate;
            }
        };
        let someone_else = NationalId::from_parts("510104", NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(), 7).unwrap().expose().to_owned();
        let wrong_code = guesser.call("CheckEntitlement", json!({ "code": nobody, "nationalId": father_id() })).await;
        let wrong_id = guesser.call("CheckEntitlement", json!({ "code": code, "nationalId": someone_else })).await;
        assert_eq!(wrong_code, wrong_id, "the check cannot tell a wrong code from a wrong ID number");
        assert_eq!(wrong_code["checkEntitlement"]["unusable"], "NOT_FOUND");
        assert!(wrong_code["checkEntitlement"]["holderName"].is_null());
        let redeem_wrong = guesser.send("RedeemEntitlement", redeem("g-1", &code, &someone_else, 100)).await;
        assert_eq!(error_codes(&redeem_wrong), ["NOT_FOUND"]);

        // That was the third failure: from now on this hospital's checks are refused, even a right one.
        let throttled = guesser.send("CheckEntitlement", json!({ "code": nobody, "nationalId": father_id() })).await;
        assert_eq!(error_codes(&throttled), ["RATE_LIMITED"]);
        let right = guesser.send("CheckEntitlement", json!({ "code": code, "nationalId": father_id() })).await;
        assert_eq!(error_codes(&right), ["RATE_LIMITED"]);

        // Another hospital is not held back by it.
        let fine = other.call("CheckEntitlement", json!({ "code": code, "nationalId": father_id() })).await;
        assert_eq!(fine["checkEntitlement"]["valid"], true);
    }

    async fn benefit_words_are_care_for_the_family_never_payment(db) {
        let app = db.app().await;
        let templates = message_template::Entity::find()
            .filter(message_template::Column::Key.starts_with("entitlement_"))
            .all(app.app.db())
            .await
            .unwrap();
        assert_eq!(templates.len(), 4, "both templates, in both languages");
        let rules = benefit_rule::Entity::find().all(app.app.db()).await.unwrap();
        let mut texts: Vec<String> = templates.into_iter().map(|template| template.body).collect();
        for rule in rules {
            texts.extend([rule.title_zh, rule.title_en, rule.legal_basis]);
        }
        texts.extend([api::domain::benefit::ABOUT_ZH.to_owned(), api::domain::benefit::ABOUT_EN.to_owned()]);
        let forbidden_zh = ["报酬", "酬金", "酬劳", "奖励", "奖金", "补偿", "报偿", "价格", "付款", "支付", "购买", "出售", "现金", "金钱", "交换"];
        let forbidden_en = [
            "pay", "paid", "payment", "price", "reward", "rewards", "compensation", "compensate", "incentive",
            "incentives", "cash", "buy", "sell", "purchase", "earn", "money", "fee", "fees", "exchange",
        ];
        for text in &texts {
            for word in forbidden_zh {
                assert!(!text.contains(word), "{word:?} in {text:?}");
            }
            for word in text.split(|c: char| !c.is_ascii_alphabetic()).map(str::to_ascii_lowercase) {
                assert!(!forbidden_en.contains(&word.as_str()), "{word:?} in {text:?}");
            }
        }
    }
}
