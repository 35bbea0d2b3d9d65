//! The volunteer record for staff: statuses set with EMDIS reasons and their history (who,
//! why), corrections that are audited and change nothing when refused, and the lost-contact
//! rule (marked lost only after the branch's failed attempts; a later contact restores).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use entity::{audit_event, volunteer, volunteer_tombstone};
use registry_tests::{both_backends, error_codes, error_field, staff};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

const SET_STATUS: &str = "mutation($id: ID!, $s: DonorStatus!, $r: StatusReason, $u: NaiveDate, $n: String) {
    setVolunteerStatus(volunteerId: $id, status: $s, reason: $r, until: $u, note: $n) { status statusReason statusUntil } }";
const HISTORY: &str = "query($id: ID!) { volunteer(id: $id) { status hlaResolution
    statusHistory { status reason until actorKind actorId actorRole source note } } }";
const CORRECT: &str = "mutation($id: ID!, $input: VolunteerCorrectionInput!) {
    correctVolunteerRecord(volunteerId: $id, input: $input) { status city bloodGroup { abo rh } hlaTyped } }";
const ATTEMPT: &str = "mutation($id: ID!, $o: AttemptOutcome!, $c: AttemptChannel!) {
    logContactAttempt(volunteerId: $id, input: { channel: $c, outcome: $o, contactKind: PRIMARY_PHONE }) { id } }";
const MARK_LOST: &str = "mutation($id: ID!) { markVolunteerLost(volunteerId: $id) { status statusReason } }";

fn tomorrow_plus(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) + chrono::Duration::days(1 + days)).date_naive().to_string()
}

both_backends! {
    async fn coordinators_set_statuses_with_emdis_reasons_and_the_history_says_who_and_why(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(1, "51").await;
        let coordinator = staff("branch_coordinator", "51");
        let until = tomorrow_plus(90);
        let set = app
            .data_as(&coordinator, SET_STATUS, json!({ "id": volunteer.id, "s": "TU", "r": "MR", "u": until, "n": "孕期" }))
            .await;
        assert_eq!(set["setVolunteerStatus"], json!({ "status": "TU", "statusReason": "MR", "statusUntil": until }));

        let record = app.data_as(&coordinator, HISTORY, json!({ "id": volunteer.id })).await;
        let history = record["volunteer"]["statusHistory"].as_array().unwrap();
        assert_eq!(history.len(), 2, "registration, then the coordinator's change: {history:?}");
        let api::service::Principal::Staff { id: coordinator_id, .. } = &coordinator else { unreachable!() };
        assert_eq!(
            history[0],
            json!({ "status": "TU", "reason": "MR", "until": until, "actorKind": "staff", "actorId": coordinator_id.to_string(),
                    "actorRole": "branch_coordinator", "source": "staff.set_status", "note": "孕期" })
        );
        assert_eq!(history[1]["source"], "registered");
        assert_eq!(history[1]["actorKind"], "system");

        // AV waits for the HLA typing; recording the typing makes the volunteer available.
        let early = app.response_as(&coordinator, SET_STATUS, json!({ "id": volunteer.id, "s": "AV" })).await;
        assert_eq!(error_codes(&early), ["CONFLICT"]);
        app.data_as(&coordinator, SET_STATUS, json!({ "id": volunteer.id, "s": "TU", "r": "UC" })).await;
        let typed = app.data_as(&coordinator, CORRECT, json!({ "id": volunteer.id, "input": { "hlaResolution": "HIGH" } })).await;
        assert_eq!(typed["correctVolunteerRecord"]["status"], "TU", "typing does not lift a TU");
        let back = app.data_as(&coordinator, SET_STATUS, json!({ "id": volunteer.id, "s": "AV" })).await;
        assert_eq!(back["setVolunteerStatus"]["status"], "AV");

        // Bad parts name their field and change nothing.
        for (variables, code, field) in [
            (json!({ "s": "TU", "r": "MR" }), "BAD_USER_INPUT", "until"),
            (json!({ "s": "TU", "r": "MR", "u": "2020-01-01" }), "BAD_USER_INPUT", "until"),
            (json!({ "s": "TU", "r": "PR", "u": tomorrow_plus(900) }), "BAD_USER_INPUT", "until"),
            (json!({ "s": "TU" }), "BAD_USER_INPUT", "reason"),
            (json!({ "s": "AV", "r": "PR" }), "BAD_USER_INPUT", "reason"),
            (json!({ "s": "RS" }), "BAD_USER_INPUT", "status"),
            (json!({ "s": "DE", "r": "DD" }), "BAD_USER_INPUT", "note"),
            (json!({ "s": "TU", "r": "UC", "n": "x".repeat(501) }), "BAD_USER_INPUT", "note"),
        ] {
            let mut variables = variables;
            variables["id"] = json!(volunteer.id);
            let refused = app.response_as(&coordinator, SET_STATUS, variables.clone()).await;
            assert_eq!(error_codes(&refused), [code], "{variables}");
            assert_eq!(error_field(&refused), field, "{variables}");
        }
        let record = app.data_as(&coordinator, HISTORY, json!({ "id": volunteer.id })).await;
        assert_eq!(record["volunteer"]["status"], "AV", "nothing changed");

        // Another branch's coordinator, and a recruiter, are refused.
        let other = app.response_as(&staff("branch_coordinator", "11"), SET_STATUS, json!({ "id": volunteer.id, "s": "TU", "r": "UC" })).await;
        assert_eq!(error_codes(&other), ["FORBIDDEN"]);
        let recruiter = app.response_as(&staff("branch_recruiter", "51"), SET_STATUS, json!({ "id": volunteer.id, "s": "TU", "r": "UC" })).await;
        assert_eq!(error_codes(&recruiter), ["FORBIDDEN"]);

        // DE takes the volunteer off the register: a tombstone with the reason, nothing personal.
        let deleted = app
            .data_as(&coordinator, SET_STATUS, json!({ "id": volunteer.id, "s": "DE", "r": "DD", "n": "家属告知" }))
            .await;
        assert_eq!(deleted["setVolunteerStatus"], json!(null));
        assert!(volunteer::Entity::find_by_id(volunteer.id).one(app.app.db()).await.unwrap().is_none());
        let tombstone = volunteer_tombstone::Entity::find_by_id(volunteer.id).one(app.app.db()).await.unwrap().unwrap();
        assert_eq!(tombstone.status_reason, volunteer::StatusReason::Died);
    }

    async fn corrections_are_audited_and_a_taken_id_number_changes_nothing(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(1, "51").await;
        let other = app.register_volunteer(2, "51").await;
        let coordinator = staff("branch_coordinator", "51");
        let corrected = app
            .data_as(&coordinator, CORRECT, json!({ "id": volunteer.id, "input": { "city": "绵阳", "bloodGroup": { "abo": "B", "rh": "NEGATIVE" } } }))
            .await;
        assert_eq!(corrected["correctVolunteerRecord"]["city"], "绵阳");
        assert_eq!(corrected["correctVolunteerRecord"]["bloodGroup"], json!({ "abo": "B", "rh": "NEGATIVE" }));
        let audit = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("volunteer.corrected"))
            .one(app.app.db())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(audit.detail.as_deref(), Some("city,blood_group"), "fields, never values");

        let before = volunteer::Entity::find_by_id(volunteer.id).one(app.app.db()).await.unwrap().unwrap();
        let taken = app
            .response_as(&coordinator, CORRECT, json!({ "id": volunteer.id, "input": { "nationalId": other.national_id, "city": "乐山" } }))
            .await;
        assert_eq!(error_codes(&taken), ["CONFLICT"]);
        assert_eq!(error_field(&taken), "input.nationalId");
        assert!(!taken.to_string().contains(&other.national_id));
        let after = volunteer::Entity::find_by_id(volunteer.id).one(app.app.db()).await.unwrap().unwrap();
        assert_eq!(before, after, "a refused correction changes nothing");

        for (input, field) in [
            (json!({ "nationalId": "510104199003070024" }), "input.nationalId"),
            (json!({ "name": "" }), "input.name"),
            (json!({ "city": "城".repeat(51) }), "input.city"),
            (json!({}), "input"),
        ] {
            let refused = app.response_as(&coordinator, CORRECT, json!({ "id": volunteer.id, "input": input })).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{input}");
            assert_eq!(error_field(&refused), field);
        }
        let corrected_name = app
            .data_as(&coordinator, CORRECT, json!({ "id": volunteer.id, "input": { "name": "欧阳娜娜" } }))
            .await;
        assert!(corrected_name["correctVolunteerRecord"].is_object());
        let found = app
            .data_as(&coordinator, "{ searchVolunteers(filter: { namePrefix: \"欧阳娜\" }) { edges { node { id name } } } }", json!({}))
            .await;
        assert_eq!(found["searchVolunteers"]["edges"][0]["node"]["id"], volunteer.id.to_string());
        assert_eq!(found["searchVolunteers"]["edges"][0]["node"]["name"], "欧***");
    }

    async fn a_volunteer_is_marked_lost_only_after_the_branch_s_failed_attempts_and_a_contact_restores_them(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(1, "51").await;
        let coordinator = staff("branch_coordinator", "51");
        app.data_as(&coordinator, CORRECT, json!({ "id": volunteer.id, "input": { "hlaResolution": "LOW" } })).await;
        let recruiter = staff("branch_recruiter", "51");
        let id = json!(volunteer.id);
        for (outcome, channel) in [("NO_ANSWER", "PHONE_CALL"), ("CALL_LATER", "PHONE_CALL"), ("NO_ANSWER", "SMS")] {
            app.data_as(&recruiter, ATTEMPT, json!({ "id": id, "o": outcome, "c": channel })).await;
        }
        let early = app.response_as(&recruiter, MARK_LOST, json!({ "id": id })).await;
        assert_eq!(error_codes(&early), ["CONFLICT"], "a call-later reached them: two failures only");
        assert!(early["errors"][0]["message"].as_str().unwrap().contains("2 failed attempts"));

        app.data_as(&recruiter, ATTEMPT, json!({ "id": id, "o": "WRONG_NUMBER", "c": "BACKUP_CONTACT" })).await;
        let other_branch = app.response_as(&staff("branch_recruiter", "11"), MARK_LOST, json!({ "id": id })).await;
        assert_eq!(error_codes(&other_branch), ["FORBIDDEN"]);
        let lost = app.data_as(&recruiter, MARK_LOST, json!({ "id": id })).await;
        assert_eq!(lost["markVolunteerLost"], json!({ "status": "TU", "statusReason": "UC" }));
        let again = app.response_as(&recruiter, MARK_LOST, json!({ "id": id })).await;
        assert_eq!(error_codes(&again), ["CONFLICT"]);

        app.age_confirmation(volunteer.id, 400).await;
        app.data_as(&recruiter, ATTEMPT, json!({ "id": id, "o": "REACHED", "c": "VISIT" })).await;
        let record = app.data_as(&recruiter, HISTORY, json!({ "id": id })).await;
        assert_eq!(record["volunteer"]["status"], "AV", "reached again: back on the register");
        let history = record["volunteer"]["statusHistory"].as_array().unwrap();
        let sources: Vec<&str> = history.iter().map(|change| change["source"].as_str().unwrap()).collect();
        assert_eq!(sources, ["staff.reached", "staff.mark_lost", "staff.hla_typing", "registered"]);
        let stored = volunteer::Entity::find_by_id(volunteer.id).one(app.app.db()).await.unwrap().unwrap();
        assert!(chrono::Utc::now() - stored.last_confirmed_at < chrono::Duration::minutes(1), "reaching them confirms the record");
        let audits = audit_event::Entity::find()
            .filter(audit_event::Column::Action.eq("volunteer.marked_lost"))
            .count(app.app.db())
            .await
            .unwrap();
        assert_eq!(audits, 1);
    }

    async fn the_staff_fields_of_a_record_refuse_its_volunteer_and_another_branch(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(1, "51").await;
        let me = api::service::Principal::Volunteer { id: volunteer.id };
        for field in ["statusHistory { source }", "messages { status }", "contactAttempts { outcome }", "contactHistory { value }", "hlaResolution"] {
            let refused = app.response_as(&me, &format!("{{ me {{ id {field} }} }}"), json!({})).await;
            assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{field}: {refused}");
        }
        let read = "query($id: ID!) { volunteer(id: $id) { statusHistory { source } } }";
        let other = app.response_as(&staff("branch_recruiter", "11"), read, json!({ "id": volunteer.id })).await;
        assert_eq!(error_codes(&other), ["FORBIDDEN"]);
        let own = app.data_as(&staff("branch_recruiter", "51"), read, json!({ "id": volunteer.id })).await;
        assert_eq!(own["volunteer"]["statusHistory"][0]["source"], "registered");
    }
}
