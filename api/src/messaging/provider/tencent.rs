//! Tencent Cloud SMS, API 3.0 `SendSms` (version 2021-01-11).
//!
//! Chosen over Alibaba Cloud's API because its TC3 signature covers the request body, so a
//! tampered request fails at the gateway; both are common with Chinese operators.

use std::collections::BTreeMap;
use std::time::Duration;

use anyhow::{Context, anyhow};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::tc3::{SignedRequest, authorization};
use super::{OutgoingSms, SendOutcome, SmsProvider};
use crate::config::TencentSettings;

const CONTENT_TYPE: &str = "application/json";

#[derive(Debug)]
pub struct TencentSms {
    client: reqwest::Client,
    endpoint: String,
    host: String,
    region: String,
    secret_id: String,
    secret_key: SecretString,
    sdk_app_id: String,
    templates: BTreeMap<String, String>,
}

impl TencentSms {
    /// # Errors
    /// Missing credentials or an endpoint that is not a URL.
    pub fn new(settings: &TencentSettings) -> anyhow::Result<Self> {
        let url = reqwest::Url::parse(&settings.endpoint).context("messaging.tencent.endpoint is not a URL")?;
        let host = match (url.host_str(), url.port()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            (Some(host), None) => host.to_owned(),
            (None, _) => return Err(anyhow!("messaging.tencent.endpoint has no host")),
        };
        Ok(Self {
            client: reqwest::Client::builder().timeout(Duration::from_secs(10)).build()?,
            endpoint: settings.endpoint.clone(),
            host,
            region: settings.region.clone(),
            secret_id: settings.secret_id.clone().context("messaging.tencent.secret_id is not set")?,
            secret_key: settings.secret_key.clone().context("messaging.tencent.secret_key is not set")?,
            sdk_app_id: settings.sdk_app_id.clone().context("messaging.tencent.sdk_app_id is not set")?,
            templates: settings.templates.clone(),
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Envelope {
    response: Response,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Response {
    error: Option<ApiError>,
    #[serde(default)]
    send_status_set: Vec<SendStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ApiError {
    code: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SendStatus {
    serial_no: String,
    code: String,
}

/// Throttling and the gateway's own failures pass; everything else is about the request.
fn classify(code: String) -> SendOutcome {
    let transient =
        ["RequestLimitExceeded", "InternalError", "LimitExceeded", "FailedOperation.InsufficientBalanceInSmsPackage"];
    if transient.iter().any(|prefix| code.starts_with(prefix)) {
        SendOutcome::Retry { code }
    } else {
        SendOutcome::Reject { code }
    }
}

#[async_trait::async_trait]
impl SmsProvider for TencentSms {
    fn name(&self) -> &'static str {
        "tencent"
    }

    async fn send(&self, sms: &OutgoingSms) -> SendOutcome {
        let Some(template_id) = self.templates.get(&format!("{}.{}", sms.template_key, sms.locale)) else {
            return SendOutcome::Reject { code: "TemplateNotConfigured".into() };
        };
        let body = json!({
            "PhoneNumberSet": [sms.phone],
            "SmsSdkAppId": self.sdk_app_id,
            "SignName": sms.sign_name,
            "TemplateId": template_id,
            "TemplateParamSet": sms.params,
            "SessionContext": sms.message_id.to_string(),
        })
        .to_string();
        let timestamp = chrono::Utc::now().timestamp();
        let signed = SignedRequest {
            host: &self.host,
            content_type: CONTENT_TYPE,
            payload: body.as_bytes(),
            timestamp,
            service: "sms",
        };
        let response = self
            .client
            .post(&self.endpoint)
            .header("Authorization", authorization(&self.secret_id, self.secret_key.expose_secret(), &signed))
            .header("Content-Type", CONTENT_TYPE)
            .header("X-TC-Action", "SendSms")
            .header("X-TC-Version", "2021-01-11")
            .header("X-TC-Timestamp", timestamp.to_string())
            .header("X-TC-Region", &self.region)
            .body(body)
            .send()
            .await;
        let response = match response {
            Ok(response) if response.status().is_server_error() => {
                return SendOutcome::Retry { code: format!("HTTP{}", response.status().as_u16()) };
            }
            Ok(response) => response,
            Err(err) => {
                let code = if err.is_timeout() { "Timeout" } else { "Network" };
                return SendOutcome::Retry { code: code.into() };
            }
        };
        let envelope: Envelope = match response.json().await {
            Ok(envelope) => envelope,
            Err(_) => return SendOutcome::Retry { code: "UnreadableResponse".into() },
        };
        if let Some(error) = envelope.response.error {
            return classify(error.code);
        }
        match envelope.response.send_status_set.into_iter().next() {
            Some(status) if status.code == "Ok" => SendOutcome::Accepted { provider_message_id: status.serial_no },
            Some(status) => classify(status.code),
            None => SendOutcome::Retry { code: "EmptySendStatusSet".into() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttling_and_gateway_faults_are_retried_and_request_faults_are_not() {
        for code in ["RequestLimitExceeded", "InternalError.Timeout", "LimitExceeded.PhoneNumberThirtySecondLimit"] {
            assert!(matches!(classify(code.into()), SendOutcome::Retry { .. }), "{code}");
        }
        for code in [
            "InvalidParameterValue.IncorrectPhoneNumber",
            "AuthFailure.SignatureFailure",
            "FailedOperation.TemplateIncorrectOrUnapproved",
        ] {
            assert!(matches!(classify(code.into()), SendOutcome::Reject { .. }), "{code}");
        }
    }
}
