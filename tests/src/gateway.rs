//! A fake Tencent Cloud SMS gateway on a loopback port. It speaks the real protocol: it checks
//! the TC3-HMAC-SHA256 signature of every request, answers `SendSms` in Tencent's envelope,
//! can throttle or fail on demand, and signs the delivery reports and replies it posts back.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use api::digest::{hex, hmac};
use api::messaging::provider::tc3::{SignedRequest, signature};
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use serde_json::{Value, json};

pub const SECRET_ID: &str = "AKIDfakegateway0000000000000000000";
pub const SECRET_KEY: &str = "fake-gateway-secret-key-0000000000";
pub const SDK_APP_ID: &str = "1400000001";
pub const CALLBACK_SECRET: &str = "callback-secret-for-tests";

/// An SMS the gateway accepted.
#[derive(Clone, Debug)]
pub struct AcceptedSms {
    pub serial_no: String,
    pub phone: String,
    pub sign_name: String,
    pub template_id: String,
    pub params: Vec<String>,
    /// Our message id, echoed by Tencent as `SessionContext`.
    pub session_context: String,
}

#[derive(Debug, Default)]
struct GatewayState {
    accepted: Mutex<Vec<AcceptedSms>>,
    /// Requests to answer with `InternalError` before accepting again.
    fail_next: AtomicU32,
    /// Requests to answer with `RequestLimitExceeded` before accepting again.
    throttle_next: AtomicU32,
    /// Requests to hold without ever answering, as a gateway that took a request and hung.
    stall_next: AtomicU32,
    requests: AtomicU64,
    bad_signatures: AtomicU64,
}

#[derive(Debug)]
pub struct FakeGateway {
    pub addr: SocketAddr,
    state: Arc<GatewayState>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeGateway {
    pub async fn start() -> Self {
        Self::serve(post(send_sms)).await
    }

    /// A gateway that accepts every request without checking or recording anything: the
    /// ceiling a benchmark compares delivery against.
    pub async fn start_bare() -> Self {
        Self::serve(post(accept_blindly)).await
    }

    async fn serve(route: axum::routing::MethodRouter<Arc<GatewayState>>) -> Self {
        let state = Arc::new(GatewayState::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
        let addr = listener.local_addr().expect("bound address");
        let app = Router::new().route("/", route).with_state(Arc::clone(&state));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, server }
    }

    #[must_use]
    pub fn endpoint(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Settings that point an app's messaging at this gateway. Delivery workers are off, so a
    /// test drives delivery itself; tests that want workers set `messaging.workers`.
    pub fn configure(&self) -> impl Fn(&mut api::config::Settings) + use<> {
        let endpoint = self.endpoint();
        move |settings| {
            let messaging = &mut settings.messaging;
            messaging.provider = api::config::SmsProviderKind::Tencent;
            messaging.workers = 0;
            messaging.backoff_base_ms = 10;
            messaging.backoff_max_ms = 20;
            messaging.callback_secret = Some(CALLBACK_SECRET.into());
            let tencent = &mut messaging.tencent;
            tencent.endpoint.clone_from(&endpoint);
            tencent.secret_id = Some(SECRET_ID.into());
            tencent.secret_key = Some(SECRET_KEY.into());
            tencent.sdk_app_id = Some(SDK_APP_ID.into());
            for (key, id) in
                [("login_code", "1001"), ("checkup_due", "1002"), ("recommitment", "1003"), ("health_tip", "1004")]
            {
                tencent.templates.insert(format!("{key}.zh-CN"), id.into());
            }
        }
    }

    pub fn fail_next(&self, requests: u32) {
        self.state.fail_next.store(requests, Ordering::SeqCst);
    }

    pub fn throttle_next(&self, requests: u32) {
        self.state.throttle_next.store(requests, Ordering::SeqCst);
    }

    /// Holds the next `requests` without answering: the sender is left mid-send.
    pub fn stall_next(&self, requests: u32) {
        self.state.stall_next.store(requests, Ordering::SeqCst);
    }

    #[must_use]
    pub fn accepted(&self) -> Vec<AcceptedSms> {
        self.state.accepted.lock().unwrap().clone()
    }

    #[must_use]
    pub fn requests(&self) -> u64 {
        self.state.requests.load(Ordering::SeqCst)
    }

    /// The request count, readable from another task after this gateway's handle moved on.
    pub fn counter(&self) -> impl Fn() -> u64 + Send + Sync + 'static {
        let state = Arc::clone(&self.state);
        move || state.requests.load(Ordering::SeqCst)
    }

    #[must_use]
    pub fn bad_signatures(&self) -> u64 {
        self.state.bad_signatures.load(Ordering::SeqCst)
    }

    /// Messages accepted more than once, by our message id.
    #[must_use]
    pub fn duplicates(&self) -> usize {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for sms in self.accepted() {
            *seen.entry(sms.session_context).or_default() += 1;
        }
        seen.values().filter(|count| **count > 1).count()
    }
}

impl FakeGateway {
    /// Reports, as Tencent's callback relay does, whether an SMS it accepted reached the phone,
    /// to the app serving at `base` (`http://host:port`).
    pub async fn report(&self, base: &str, sms: &AcceptedSms, delivered: bool) -> reqwest::Response {
        let mobile = sms.phone.trim_start_matches("+86");
        let (status, code) = if delivered { ("SUCCESS", "DELIVRD") } else { ("FAIL", "UNDELIV") };
        let report = json!([{
            "user_receive_time": chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            "nationcode": "86", "mobile": mobile, "report_status": status, "errmsg": code,
            "description": code, "sid": sms.serial_no,
        }]);
        post_callback(&reqwest::Client::new(), &format!("{base}/callbacks/sms/reports"), &report, CALLBACK_SECRET).await
    }

    /// Relays a volunteer's SMS (`text`, from the E.164 `phone`) to the app serving at `base`.
    pub async fn reply(&self, base: &str, phone: &str, text: &str) -> reqwest::Response {
        let sms = json!({
            "extend": "", "mobile": phone.trim_start_matches("+86"), "nationcode": "86",
            "sign": "中华骨髓库", "text": text, "time": chrono::Utc::now().timestamp(),
        });
        post_callback(&reqwest::Client::new(), &format!("{base}/callbacks/sms/replies"), &sms, CALLBACK_SECRET).await
    }
}

impl Drop for FakeGateway {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn envelope(response: Value) -> String {
    let mut response = response;
    response["RequestId"] = json!(uuid::Uuid::new_v4().to_string());
    json!({ "Response": response }).to_string()
}

fn error(code: &str) -> String {
    envelope(json!({ "Error": { "Code": code, "Message": code } }))
}

/// Checks the TC3 signature as Tencent does: the credential, the date scope, the clock skew,
/// and the signature over content type, host and the body's hash.
fn signature_holds(headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let Ok(timestamp) = header("x-tc-timestamp").parse::<i64>() else {
        return false;
    };
    if (chrono::Utc::now().timestamp() - timestamp).abs() > 300 {
        return false;
    }
    let date = chrono::DateTime::from_timestamp(timestamp, 0).unwrap().format("%Y-%m-%d").to_string();
    let request = SignedRequest {
        host: header("host"),
        content_type: header("content-type"),
        payload: body,
        timestamp,
        service: "sms",
    };
    let expected = format!(
        "TC3-HMAC-SHA256 Credential={SECRET_ID}/{date}/sms/tc3_request, SignedHeaders=content-type;host, Signature={}",
        signature(SECRET_KEY, &request)
    );
    header("authorization") == expected
}

async fn send_sms(State(state): State<Arc<GatewayState>>, headers: HeaderMap, body: Bytes) -> String {
    state.requests.fetch_add(1, Ordering::SeqCst);
    if !signature_holds(&headers, &body) {
        state.bad_signatures.fetch_add(1, Ordering::SeqCst);
        return error("AuthFailure.SignatureFailure");
    }
    if headers.get("x-tc-action").and_then(|v| v.to_str().ok()) != Some("SendSms") {
        return error("InvalidAction");
    }
    let take =
        |counter: &AtomicU32| counter.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1)).is_ok();
    if take(&state.throttle_next) {
        return error("RequestLimitExceeded");
    }
    if take(&state.stall_next) {
        return std::future::pending().await;
    }
    if take(&state.fail_next) {
        return error("InternalError.Timeout");
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error("InvalidParameter");
    };
    let text = |key: &str| request[key].as_str().unwrap_or_default().to_owned();
    if text("SmsSdkAppId") != SDK_APP_ID {
        return error("InvalidParameterValue.SdkAppIdNotExist");
    }
    let phone = request["PhoneNumberSet"][0].as_str().unwrap_or_default().to_owned();
    let serial_no = format!("2433:{}", uuid::Uuid::new_v4().simple());
    let accepted = AcceptedSms {
        serial_no: serial_no.clone(),
        phone: phone.clone(),
        sign_name: text("SignName"),
        template_id: text("TemplateId"),
        params: request["TemplateParamSet"]
            .as_array()
            .map(|params| params.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        session_context: text("SessionContext"),
    };
    state.accepted.lock().unwrap().push(accepted);
    envelope(json!({ "SendStatusSet": [{
        "SerialNo": serial_no, "PhoneNumber": phone, "Fee": 1, "SessionContext": text("SessionContext"),
        "Code": "Ok", "Message": "send success", "IsoCode": "CN"
    }] }))
}

async fn accept_blindly(State(state): State<Arc<GatewayState>>) -> &'static str {
    state.requests.fetch_add(1, Ordering::Relaxed);
    r#"{"Response":{"SendStatusSet":[{"SerialNo":"2433:bare","Code":"Ok","Message":"send success"}],"RequestId":"bare"}}"#
}

/// A login code for `phone` from branch 51: transactional, so no quiet hours or caps apply.
#[must_use]
pub fn login_code(phone: &str, code: &str, dedupe_key: String) -> api::messaging::NewMessage {
    api::messaging::NewMessage {
        recipient: api::messaging::Recipient::Sms(api::domain::Phone::parse(phone).expect("a valid phone")),
        volunteer_id: None,
        branch_code: "51".into(),
        template_key: "login_code".into(),
        locale: "zh-CN".into(),
        variables: [("code".to_owned(), code.to_owned()), ("minutes".to_owned(), "5".to_owned())].into(),
        dedupe_key,
        campaign_id: None,
    }
}

/// Headers that sign a callback body with the callback secret.
#[must_use]
pub fn callback_headers(body: &str, secret: &str, timestamp: i64) -> [(&'static str, String); 3] {
    let signature = hex(&hmac(secret.as_bytes(), format!("{timestamp}.{body}").as_bytes()));
    [
        ("content-type", "application/json".to_owned()),
        ("x-registry-timestamp", timestamp.to_string()),
        ("x-registry-signature", signature),
    ]
}

/// Posts a signed callback to the app, as the gateway's relay does.
pub async fn post_callback(client: &reqwest::Client, url: &str, body: &Value, secret: &str) -> reqwest::Response {
    let body = body.to_string();
    let mut request = client.post(url);
    for (name, value) in callback_headers(&body, secret, chrono::Utc::now().timestamp()) {
        request = request.header(name, value);
    }
    request.body(body).send().await.expect("the app answers")
}
