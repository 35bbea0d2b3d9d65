//! Staff search: exact personal values through the blind indexes, name prefixes, the group
//! filters, branch scoping, Relay pages that stay stable while volunteers register, a page's
//! statement count, and bad input that names its field.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use registry_tests::{Registered, TestApp, both_backends, error_codes, error_field, staff};
use serde_json::{Value, json};

const SEARCH: &str = "query($f: VolunteerFilter, $o: VolunteerOrder, $n: Int, $a: String) {
    searchVolunteers(filter: $f, orderBy: $o, first: $n, after: $a) {
        totalCount
        pageInfo { hasNextPage endCursor }
        edges { cursor node { id branchCode name nationalId primaryPhone status } }
    } }";

async fn register(app: &TestApp, numbers: std::ops::RangeInclusive<u32>, branch: &str) -> Vec<Registered> {
    let mut registered = Vec::new();
    for n in numbers {
        registered.push(app.register_volunteer(n, branch).await);
    }
    registered
}

fn ids(data: &Value) -> Vec<String> {
    data["searchVolunteers"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| edge["node"]["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn search(app: &TestApp, caller: &api::service::Principal, filter: Value) -> Vec<String> {
    ids(&app.data_as(caller, SEARCH, json!({ "f": filter, "n": 50 })).await)
}

both_backends! {
    async fn staff_find_volunteers_by_exact_personal_values_and_name_prefix_masked(db) {
        let app = db.app().await;
        let sichuan = register(&app, 1..=30, "51").await;
        let beijing = register(&app, 100..=102, "11").await;
        let recruiter = staff("branch_recruiter", "51");

        let by_phone = app.data_as(&recruiter, SEARCH, json!({ "f": { "phone": sichuan[4].phone } })).await;
        assert_eq!(ids(&by_phone), [sichuan[4].id.to_string()]);
        let node = &by_phone["searchVolunteers"]["edges"][0]["node"];
        let phone = &sichuan[4].phone;
        assert_eq!(node["primaryPhone"], format!("{}****{}", &phone[3..6], &phone[10..]));
        let national_id = &sichuan[4].national_id;
        assert_eq!(node["nationalId"], format!("{}********{}", &national_id[..6], &national_id[14..]));
        assert!(!by_phone.to_string().contains(&phone[3..]) && !by_phone.to_string().contains(national_id.as_str()));

        assert_eq!(search(&app, &recruiter, json!({ "nationalId": sichuan[5].national_id })).await, [sichuan[5].id.to_string()]);
        // Number 12 is 张芳伟 (surname by the last digit, given names by the tens and hundreds).
        assert_eq!(search(&app, &recruiter, json!({ "name": "张芳伟" })).await, [sichuan[11].id.to_string()]);
        assert_eq!(search(&app, &recruiter, json!({ "namePrefix": "张芳" })).await, [sichuan[11].id.to_string()]);
        assert_eq!(search(&app, &recruiter, json!({ "namePrefix": "张芳伟" })).await, [sichuan[11].id.to_string()]);
        assert!(search(&app, &recruiter, json!({ "namePrefix": "张敏" })).await.is_empty());

        // Branch staff find nothing of another branch, and may not ask for it.
        assert!(search(&app, &recruiter, json!({ "phone": beijing[0].phone })).await.is_empty());
        let other = app.response_as(&recruiter, SEARCH, json!({ "f": { "branchCode": "11" } })).await;
        assert_eq!(error_codes(&other), ["FORBIDDEN"]);
        assert_eq!(search(&app, &recruiter, json!({})).await.len(), 30, "their whole branch and nothing else");
        // National administrators search every branch, or one.
        let admin = staff("national_admin", "11");
        assert_eq!(search(&app, &admin, json!({ "phone": beijing[0].phone })).await, [beijing[0].id.to_string()]);
        assert_eq!(search(&app, &admin, json!({ "branchCode": "11" })).await.len(), 3);
        assert_eq!(search(&app, &admin, json!({})).await.len(), 33);

        // The deprecated exact lookup answers from the same search.
        let found = app
            .data_as(&recruiter, "query($p: String) { findVolunteers(phone: $p) { id } }", json!({ "p": sichuan[4].phone }))
            .await;
        assert_eq!(found["findVolunteers"][0]["id"], sichuan[4].id.to_string());
    }

    async fn pages_stay_stable_while_volunteers_register(db) {
        let app = db.app().await;
        let first_ten = register(&app, 1..=10, "51").await;
        let recruiter = staff("branch_recruiter", "51");
        let page = |after: Option<String>| {
            let app = &app;
            let recruiter = &recruiter;
            async move { app.data_as(recruiter, SEARCH, json!({ "n": 4, "a": after })).await }
        };
        let one = page(None).await;
        assert_eq!(one["searchVolunteers"]["totalCount"], 10);
        assert_eq!(one["searchVolunteers"]["pageInfo"]["hasNextPage"], true);
        let newest_first: Vec<String> = first_ten.iter().rev().map(|volunteer| volunteer.id.to_string()).collect();
        assert_eq!(ids(&one), newest_first[..4]);

        // Three register meanwhile: they sort before page one and shift nothing after it.
        register(&app, 11..=13, "51").await;
        let cursor = one["searchVolunteers"]["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        let two = page(Some(cursor)).await;
        assert_eq!(ids(&two), newest_first[4..8]);
        let cursor = two["searchVolunteers"]["pageInfo"]["endCursor"].as_str().unwrap().to_owned();
        let three = page(Some(cursor)).await;
        assert_eq!(ids(&three), newest_first[8..]);
        assert_eq!(three["searchVolunteers"]["pageInfo"]["hasNextPage"], false);
        assert_eq!(three["searchVolunteers"]["totalCount"], 13);

        // Stalest confirmation first, for stale-contact work.
        for (days, volunteer) in [(500, &first_ten[3]), (400, &first_ten[7]), (450, &first_ten[1])] {
            app.age_confirmation(volunteer.id, days).await;
        }
        let stale = app
            .data_as(
                &recruiter,
                SEARCH,
                json!({ "f": { "confirmedOverMonths": 12 }, "o": { "field": "LAST_CONFIRMED_AT", "direction": "ASC" }, "n": 10 }),
            )
            .await;
        let expected: Vec<String> = [3, 1, 7].iter().map(|n| first_ten[*n].id.to_string()).collect();
        assert_eq!(ids(&stale), expected);
    }

    async fn filters_narrow_by_status_blood_group_typing_city_age_and_staleness(db) {
        let app = db.app().await;
        let volunteers = register(&app, 1..=6, "51").await;
        let coordinator = staff("branch_coordinator", "51");
        let correct = "mutation($id: ID!, $input: VolunteerCorrectionInput!) { correctVolunteerRecord(volunteerId: $id, input: $input) { id status } }";
        for (n, input) in [
            (0, json!({ "city": "成都", "bloodGroup": { "abo": "AB", "rh": "NEGATIVE" }, "hlaResolution": "HIGH" })),
            (1, json!({ "city": "成都", "bloodGroup": { "abo": "O", "rh": "POSITIVE" } })),
            (2, json!({ "city": "绵阳", "bloodGroup": { "abo": "AB", "rh": "NEGATIVE" }, "hlaResolution": "LOW" })),
        ] {
            app.data_as(&coordinator, correct, json!({ "id": volunteers[n].id, "input": input })).await;
        }
        app.age_confirmation(volunteers[3].id, 400).await;
        let pause = "mutation($id: ID!) { setVolunteerStatus(volunteerId: $id, status: TU, reason: UC, note: \"三次未接\") { status } }";
        app.data_as(&coordinator, pause, json!({ "id": volunteers[4].id })).await;

        let id = |n: usize| volunteers[n].id.to_string();
        let sorted = |mut ids: Vec<String>| { ids.sort(); ids };
        assert_eq!(search(&app, &coordinator, json!({ "city": "成都", "abo": "AB", "rh": "NEGATIVE" })).await, [id(0)]);
        assert_eq!(sorted(search(&app, &coordinator, json!({ "abo": "AB", "rh": "NEGATIVE" })).await), sorted(vec![id(0), id(2)]));
        assert_eq!(sorted(search(&app, &coordinator, json!({ "hlaTyped": true })).await), sorted(vec![id(0), id(2)]));
        assert_eq!(search(&app, &coordinator, json!({ "statuses": ["AV"], "city": "绵阳" })).await, [id(2)]);
        assert_eq!(search(&app, &coordinator, json!({ "statuses": ["TU"], "statusReasons": ["UC"] })).await, [id(4)]);
        assert_eq!(search(&app, &coordinator, json!({ "confirmedOverMonths": 12 })).await, [id(3)]);
        assert_eq!(search(&app, &coordinator, json!({ "confirmedWithinMonths": 12 })).await.len(), 5);
        let this_year = chrono::Datelike::year(&(chrono::Utc::now() + chrono::Duration::hours(8)));
        assert_eq!(search(&app, &coordinator, json!({ "registeredFromYear": this_year, "registeredToYear": this_year })).await.len(), 6);
        assert!(search(&app, &coordinator, json!({ "registeredToYear": this_year - 1 })).await.is_empty());
        // Synthetic volunteers are born from 1970 on, a day apart per thousand: all over 50 now.
        assert_eq!(search(&app, &coordinator, json!({ "minAge": 50 })).await.len(), 6);
        assert!(search(&app, &coordinator, json!({ "maxAge": 30 })).await.is_empty());
    }

    async fn a_page_with_its_relations_costs_the_same_statements_for_five_or_fifty(db) {
        let app = db.app().await;
        register(&app, 1..=50, "51").await;
        let recruiter = staff("branch_recruiter", "51");
        let query = "query($n: Int) { searchVolunteers(first: $n) { edges { node { id primaryPhone
            contacts { value } contactHistory { value } backupContacts { phone } familyMembers { stance }
            contactAttempts { outcome } statusHistory { status source } messages { status } } } } }";
        let (five, five_statements) = app.count_statements(app.data_as(&recruiter, query, json!({ "n": 5 }))).await;
        let (fifty, fifty_statements) = app.count_statements(app.data_as(&recruiter, query, json!({ "n": 50 }))).await;
        assert_eq!(five["searchVolunteers"]["edges"].as_array().unwrap().len(), 5);
        assert_eq!(fifty["searchVolunteers"]["edges"].as_array().unwrap().len(), 50);
        assert_eq!(fifty["searchVolunteers"]["edges"][0]["node"]["statusHistory"][0]["source"], "registered");
        assert_eq!(five_statements, fifty_statements, "relations are batched per page, not read per volunteer");
        assert!(fifty_statements <= 10, "{fifty_statements} statements for a page with seven relations");
    }

    async fn bad_search_input_names_its_field_and_changes_nothing(db) {
        let app = db.app().await;
        let volunteer = app.register_volunteer(1, "51").await;
        let recruiter = staff("branch_recruiter", "51");
        for (variables, field) in [
            (json!({ "f": { "phone": "12345" } }), "filter.phone"),
            (json!({ "f": { "nationalId": "510104199003070024" } }), "filter.nationalId"),
            (json!({ "f": { "namePrefix": "王" } }), "filter.namePrefix"),
            (json!({ "f": { "name": "x".repeat(10_000) } }), "filter.name"),
            (json!({ "f": { "minAge": 40, "maxAge": 30 } }), "filter.maxAge"),
            (json!({ "f": { "registeredFromYear": 1800 } }), "filter.registeredFromYear"),
            (json!({ "f": { "confirmedOverMonths": -1 } }), "filter.confirmedOverMonths"),
            (json!({ "f": { "city": "" } }), "filter.city"),
            (json!({ "f": { "campaignResponse": "NO_REPLY" } }), "filter.campaignId"),
            (json!({ "f": { "campaignId": "not-an-id" } }), "filter.campaignId"),
            (json!({ "n": 0 }), "first"),
            (json!({ "n": 51 }), "first"),
            (json!({ "a": "bm90IGEgY3Vyc29y" }), "after"),
        ] {
            let refused = app.response_as(&recruiter, SEARCH, variables.clone()).await;
            assert_eq!(error_codes(&refused), ["BAD_USER_INPUT"], "{variables}: {refused}");
            assert_eq!(error_field(&refused), field, "{variables}");
            assert!(!refused.to_string().contains("12345"), "the error repeats no input: {refused}");
        }
        // A cursor of one order is refused by another.
        let page = app.data_as(&recruiter, SEARCH, json!({ "n": 1 })).await;
        let cursor = page["searchVolunteers"]["edges"][0]["cursor"].as_str().unwrap().to_owned();
        let mixed = app
            .response_as(&recruiter, SEARCH, json!({ "a": cursor, "o": { "field": "LAST_CONFIRMED_AT" } }))
            .await;
        assert_eq!(error_field(&mixed), "after");
        assert_eq!(ids(&page), [volunteer.id.to_string()]);
    }

    async fn a_synthetic_registry_reads_as_registrations_do(db) {
        use api::service::development::registry::Synthetic;
        let app = db.app().await;
        let registry = Synthetic { count: 600, seed: 3, now: chrono::Utc::now() };
        let report = registry.write(app.app.db(), std::sync::Arc::clone(&app.app.services().keys), 2, |_| {}).await.unwrap();
        assert_eq!(report.volunteers, 600);
        let admin = staff("national_admin", "11");
        let wanted = registry.volunteer(123).unwrap();
        let phone = wanted.input.phone.expose().to_owned();
        let national_id = wanted.input.national_id.expose().to_owned();
        let by_phone = search(&app, &admin, json!({ "phone": phone })).await;
        assert_eq!(by_phone.len(), 1);
        assert_eq!(search(&app, &admin, json!({ "nationalId": national_id })).await, by_phone);
        let prefix: String = wanted.input.name.expose().chars().take(2).collect();
        assert!(search(&app, &admin, json!({ "namePrefix": prefix })).await.contains(&by_phone[0]));
        let record = app
            .data_as(&admin, "query($id: ID!) { volunteer(id: $id) { branchCode name primaryPhone backupContacts { phone } } }", json!({ "id": by_phone[0] }))
            .await;
        assert_eq!(record["volunteer"]["branchCode"], wanted.input.branch_code);
        assert_eq!(record["volunteer"]["primaryPhone"], wanted.input.phone.masked());
        assert_eq!(record["volunteer"]["backupContacts"].as_array().unwrap().len(), wanted.input.backup_contacts.len());
        let stale = search(&app, &admin, json!({ "confirmedOverMonths": 12 })).await;
        assert!(!stale.is_empty());
    }
}
