//! Access tokens: every attack in `shared/quality.md` is refused with 401 UNAUTHENTICATED,
//! and partners can verify genuine tokens with the published JWKS.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a panic is the failure report

use api::service::{Principal, StaffRole};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use registry_tests::{Server, TestDb, both_backends, error_codes};
use serde_json::{Value, json};
use uuid::Uuid;

/// The deployment's signing seed, from the development key file the app generated.
fn seed(db: &TestDb) -> [u8; 32] {
    let text = std::fs::read_to_string(db.settings().data_dir.join("dev-keys.toml")).unwrap();
    let line = text.lines().find(|line| line.starts_with("token_signing")).unwrap();
    let value = line.split('"').nth(1).unwrap();
    STANDARD.decode(value).unwrap().try_into().unwrap()
}

fn ed25519_der(seed: &[u8; 32]) -> Vec<u8> {
    let mut der = vec![0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];
    der.extend_from_slice(seed);
    der
}

fn claims() -> Value {
    let now = chrono::Utc::now().timestamp();
    json!({ "iss": "cmdp-registry", "aud": "registry-api", "sub": Uuid::now_v7(), "exp": now + 600, "nbf": now, "iat": now, "kind": "volunteer", "ver": 1 })
}

/// A token signed with the deployment's own key, with whatever header type and claims.
fn forge(seed: &[u8; 32], typ: &str, claims: &Value) -> String {
    let mut header = Header::new(Algorithm::EdDSA);
    header.typ = Some(typ.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(&ed25519_der(seed))).unwrap()
}

async fn status_with(server: &Server, authorization: &str) -> (u16, Value) {
    let response = server
        .client
        .post(server.url("/graphql"))
        .header("accept", "application/graphql-response+json")
        .header("authorization", authorization)
        .json(&json!({ "query": "{ branches { code } }" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let challenge = response.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_owned());
    let body: Value = response.json().await.unwrap();
    if status == 401 {
        assert_eq!(challenge.as_deref(), Some("Bearer error=\"invalid_token\""));
    }
    (status, body)
}

both_backends! {
    async fn every_token_attack_is_refused_with_unauthenticated(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let seed = seed(&db);
        let volunteer = Principal::Volunteer { id: app.register_volunteer(1, "51").await.id };
        let genuine = app.app.tokens().issue(&volunteer, 1, None, chrono::Utc::now()).unwrap();
        assert_eq!(status_with(&server, &format!("Bearer {genuine}")).await.0, 200);
        // A well-signed token of a volunteer whose record is gone (purged) ends with the record.
        let ghost = app.app.tokens().issue(&Principal::Volunteer { id: Uuid::now_v7() }, 1, None, chrono::Utc::now()).unwrap();
        assert_eq!(status_with(&server, &format!("Bearer {ghost}")).await.0, 401);

        let public = URL_SAFE_NO_PAD.decode(app.app.tokens().jwks()["keys"][0]["x"].as_str().unwrap()).unwrap();
        let header_none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
        let body = URL_SAFE_NO_PAD.encode(claims().to_string());
        let mut hs256 = Header::new(Algorithm::HS256);
        hs256.typ = Some("at+jwt".into());
        let (signed, signature) = genuine.rsplit_once('.').unwrap();
        let flipped = if signature.ends_with('A') { "B" } else { "A" };
        let expired = app.app.tokens().issue(&volunteer, 1, None, chrono::Utc::now() - chrono::Duration::seconds(900 + 60)).unwrap();
        let mut wrong_aud = claims();
        wrong_aud["aud"] = json!("another-api");
        let mut no_aud = claims();
        no_aud.as_object_mut().unwrap().remove("aud");
        let mut wrong_iss = claims();
        wrong_iss["iss"] = json!("someone-else");
        let mut no_sub = claims();
        no_sub.as_object_mut().unwrap().remove("sub");
        let mut not_yet = claims();
        not_yet["nbf"] = json!(chrono::Utc::now().timestamp() + 3600);
        let mut staff_without_role = claims();
        staff_without_role["kind"] = json!("staff");

        let attacks = [
            ("alg none", format!("{header_none}.{body}.")),
            ("HS256 keyed with the public key", jsonwebtoken::encode(&hs256, &claims(), &EncodingKey::from_secret(&public)).unwrap()),
            ("a wrong signature", format!("{signed}.{}{flipped}", &signature[..signature.len() - 1])),
            ("another deployment's key", forge(&[9; 32], "at+jwt", &claims())),
            ("expired beyond the leeway", expired),
            ("a wrong audience", forge(&seed, "at+jwt", &wrong_aud)),
            ("no audience", forge(&seed, "at+jwt", &no_aud)),
            ("a wrong issuer", forge(&seed, "at+jwt", &wrong_iss)),
            ("no subject", forge(&seed, "at+jwt", &no_sub)),
            ("not valid yet", forge(&seed, "at+jwt", &not_yet)),
            ("a token of another type", forge(&seed, "refresh+jwt", &claims())),
            ("an untyped JWT", forge(&seed, "JWT", &claims())),
            ("a staff token without a role", forge(&seed, "at+jwt", &staff_without_role)),
            ("an opaque refresh-style token", "rt_5b0f1c1e8d2a4c7b9e3f".to_owned()),
            ("garbage", "not.a.token".to_owned()),
        ];
        for (what, token) in attacks {
            let (status, body) = status_with(&server, &format!("Bearer {token}")).await;
            assert_eq!(status, 401, "{what}: {body}");
            assert_eq!(error_codes(&body), ["UNAUTHENTICATED"], "{what}");
            assert!(body.get("data").is_none(), "{what}: nothing runs");
        }
        let (status, _) = status_with(&server, &format!("Basic {genuine}")).await;
        assert_eq!(status, 401, "only the Bearer scheme is accepted");
    }

    async fn partners_verify_genuine_tokens_with_the_published_jwks(db) {
        let app = db.app().await;
        let server = app.serve().await;
        let jwks: Value = server.client.get(server.url("/.well-known/jwks.json")).send().await.unwrap().json().await.unwrap();
        let key = &jwks["keys"][0];
        assert_eq!(key["kty"], "OKP");
        assert_eq!(key["crv"], "Ed25519");
        assert_eq!(key["alg"], "EdDSA");
        let staff = Principal::Staff { id: Uuid::now_v7(), role: StaffRole::BranchRecruiter, branch: "51".into() };
        let token = app.app.tokens().issue(&staff, 1, None, chrono::Utc::now()).unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.kid.as_deref(), key["kid"].as_str());
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["registry-api"]);
        validation.set_issuer(&["cmdp-registry"]);
        let decoded = jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_ed_components(key["x"].as_str().unwrap()).unwrap(), &validation).unwrap();
        assert_eq!(decoded.claims["role"], "branch_recruiter");
        assert_eq!(decoded.claims["branch"], "51");
    }
}
