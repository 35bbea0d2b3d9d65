//! The mobile app as a test client: it speaks only the documents of `contract/mobile/`, over
//! HTTP, as the app does.

use serde_json::{Value, json};

use crate::{Server, TestApp};

/// The directory of one client's documents under `contract/`: `mobile` or `staff`.
#[must_use]
pub fn client_dir(client: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../contract").join(client)
}

/// The document `name` of one client's contract; a missing one is a test failure.
#[must_use]
pub fn client_document(client: &str, name: &str) -> String {
    let path = client_dir(client).join(format!("{name}.graphql"));
    std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("no contract document {}", path.display()))
}

/// The directory of the mobile app's documents.
#[must_use]
pub fn contract_dir() -> std::path::PathBuf {
    client_dir("mobile")
}

/// The document `name` of the mobile contract; a missing one is a test failure.
#[must_use]
pub fn document(name: &str) -> String {
    client_document("mobile", name)
}

/// Registers `count` volunteers of branch 51 (synthetic numbers from `first`) and signs each in
/// through the app, one after the other; returns each with their access token.
pub async fn signed_in_volunteers(
    app: &TestApp,
    server: &Server,
    first: u32,
    count: u32,
) -> Vec<(crate::Registered, String)> {
    let mut volunteers = Vec::new();
    for n in first..first + count {
        let registered = app.register_volunteer(n, "51").await;
        let mut phone = Mobile::new(server);
        assert!(phone.sign_in(app, &registered.phone).await.is_none(), "a registered volunteer");
        volunteers.push((registered, phone.token.expect("a session")));
    }
    volunteers
}

/// A phone running the app: a server and, once signed in, a token.
#[derive(Debug)]
pub struct Mobile<'a> {
    pub server: &'a Server,
    pub token: Option<String>,
    pub refresh_token: Option<String>,
}

impl<'a> Mobile<'a> {
    #[must_use]
    pub fn new(server: &'a Server) -> Self {
        Self { server, token: None, refresh_token: None }
    }

    /// Runs a contract document and returns the whole response body.
    pub async fn send(&self, name: &str, variables: Value) -> Value {
        self.server.gql(self.token.as_deref(), &document(name), variables).await.1
    }

    /// Runs a contract document that must succeed, and returns its `data`.
    pub async fn call(&self, name: &str, variables: Value) -> Value {
        let body = self.send(name, variables).await;
        assert!(body.get("errors").is_none(), "{name} failed: {body}");
        body["data"].clone()
    }

    /// Signs in (or gets an enrolment ticket) with the code the development gateway "sent".
    /// Returns the ticket when the phone is not a volunteer's.
    pub async fn sign_in(&mut self, app: &TestApp, phone: &str) -> Option<String> {
        self.call("RequestSignInCode", json!({ "phone": phone })).await;
        let code = app.latest_code(phone).await.expect("a code was sent");
        let signed_in = self.call("SignInWithCode", json!({ "phone": phone, "code": code })).await;
        let signed_in = &signed_in["signInWithCode"];
        if let Some(token) = signed_in["session"]["accessToken"].as_str() {
            self.token = Some(token.to_owned());
            self.refresh_token = signed_in["session"]["refreshToken"].as_str().map(str::to_owned);
            None
        } else {
            Some(signed_in["enrolmentTicket"].as_str().expect("a ticket").to_owned())
        }
    }

    /// Signs up a new volunteer with `input` (see [`enrolment`]) and keeps their session.
    pub async fn enrol(&mut self, app: &TestApp, phone: &str, input: Value) {
        let ticket = self.sign_in(app, phone).await.expect("a phone of no volunteer");
        let enrolled = self.call("Enrol", json!({ "enrolmentTicket": ticket, "phone": phone, "input": input })).await;
        self.token = Some(enrolled["enrol"]["accessToken"].as_str().unwrap().to_owned());
        self.refresh_token = Some(enrolled["enrol"]["refreshToken"].as_str().unwrap().to_owned());
    }
}

/// A valid enrolment form: 张三, born 1990-03-07 (female), Chengdu, two backup contacts.
#[must_use]
pub fn enrolment() -> Value {
    json!({
        "name": "张三",
        "nationalId": "510104199003070023",
        "birthDate": "1990-03-07",
        "sex": "FEMALE",
        "bloodGroup": { "abo": "A", "rh": "POSITIVE" },
        "provinceCode": "51",
        "city": "成都",
        "backupContacts": [
            { "name": "张父", "relationship": "PARENT", "phone": "+8613700000011" },
            { "name": "李友", "relationship": "FRIEND", "phone": "+8613700000012" }
        ],
        "consentVersion": "2026-01",
        "healthDataConsent": true
    })
}
