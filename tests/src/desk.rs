//! The staff console or a hospital's system, calling its contract documents over HTTP with one
//! token; and the records those tests start from.

use serde_json::{Value, json};

use crate::mobile::client_document;
use crate::{Registered, Server, TestApp};
use entity::volunteer::{self, DonorStatus, HlaResolution};
use sea_orm::{ActiveModelTrait, Set};

/// The staff console (or a hospital's system) calling its contract documents with one token.
#[derive(Debug)]
pub struct Desk<'a> {
    server: &'a Server,
    client: &'static str,
    token: String,
}

impl<'a> Desk<'a> {
    #[must_use]
    pub fn staff(server: &'a Server, token: String) -> Self {
        Self { server, client: "staff", token }
    }

    #[must_use]
    pub fn hospital(server: &'a Server, token: String) -> Self {
        Self { server, client: "hospital", token }
    }

    pub async fn send(&self, name: &str, variables: Value) -> Value {
        self.server.gql(Some(&self.token), &client_document(self.client, name), variables).await.1
    }

    pub async fn call(&self, name: &str, variables: Value) -> Value {
        let body = self.send(name, variables).await;
        assert!(body.get("errors").is_none(), "{name} failed: {body}");
        body["data"].clone()
    }
}

/// A registered, HLA-typed, available volunteer of branch 51.
pub async fn available(app: &TestApp, n: u32) -> Registered {
    let registered = app.register_volunteer(n, "51").await;
    volunteer::ActiveModel {
        id: Set(registered.id),
        status: Set(DonorStatus::Available),
        hla_resolution: Set(HlaResolution::High),
        ..Default::default()
    }
    .update(app.app.db())
    .await
    .unwrap();
    registered
}

/// A registered partner hospital of branch 51, and an access token of its own system.
pub async fn partner_hospital(server: &Server, admin: &str, name: &str) -> (String, String) {
    let register = "mutation($i: RegisterHospitalInput!) { registerHospital(input: $i) { id } }";
    let input =
        json!({ "i": { "name": name, "branchCode": "51", "contactName": "张医生", "contactPhone": "13800000009" } });
    let registered = server.gql(Some(admin), register, input).await.1;
    let id = registered["data"]["registerHospital"]["id"].as_str().unwrap().to_owned();
    let issue = "mutation($h: ID!) { issueHospitalCredentials(hospitalId: $h) { clientId clientSecret } }";
    let issued = server.gql(Some(admin), issue, json!({ "h": id })).await.1;
    let issued = &issued["data"]["issueHospitalCredentials"];
    let exchange = client_document("hospital", "HospitalToken");
    let credentials = json!({ "clientId": issued["clientId"], "clientSecret": issued["clientSecret"] });
    let token = server.gql(None, &exchange, credentials).await.1;
    (id, token["data"]["hospitalToken"]["accessToken"].as_str().unwrap().to_owned())
}
