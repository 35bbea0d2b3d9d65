//! Tencent Cloud API 3.0 request signing, TC3-HMAC-SHA256.
//!
//! The canonical request signs the method, path, content type, host and the SHA-256 of the
//! body; the key is derived from the secret key through the date, the service and
//! `tc3_request`, so a leaked signature is useless for another day or service.

use chrono::DateTime;

use crate::digest::{hex, hmac, sha256_hex};

/// What a POST to a Tencent Cloud API signs.
#[derive(Clone, Copy, Debug)]
pub struct SignedRequest<'a> {
    /// `host[:port]` exactly as the Host header carries it.
    pub host: &'a str,
    pub content_type: &'a str,
    pub payload: &'a [u8],
    /// Unix seconds, also sent as `X-TC-Timestamp`.
    pub timestamp: i64,
    /// The product, e.g. `sms`.
    pub service: &'a str,
}

/// The `Authorization` header value.
#[must_use]
pub fn authorization(secret_id: &str, secret_key: &str, request: &SignedRequest<'_>) -> String {
    let date = utc_date(request.timestamp);
    format!(
        "TC3-HMAC-SHA256 Credential={secret_id}/{date}/{}/tc3_request, SignedHeaders=content-type;host, Signature={}",
        request.service,
        signature(secret_key, request)
    )
}

/// The hex signature of a request.
#[must_use]
pub fn signature(secret_key: &str, request: &SignedRequest<'_>) -> String {
    let canonical = format!(
        "POST\n/\n\ncontent-type:{}\nhost:{}\n\ncontent-type;host\n{}",
        request.content_type,
        request.host,
        sha256_hex(request.payload)
    );
    let date = utc_date(request.timestamp);
    let scope = format!("{date}/{}/tc3_request", request.service);
    let to_sign = format!("TC3-HMAC-SHA256\n{}\n{scope}\n{}", request.timestamp, sha256_hex(canonical.as_bytes()));
    let key = [date.as_str(), request.service, "tc3_request"]
        .into_iter()
        .fold(format!("TC3{secret_key}").into_bytes(), |key, part| hmac(&key, part.as_bytes()).to_vec());
    hex(&hmac(&key, to_sign.as_bytes()))
}

fn utc_date(timestamp: i64) -> String {
    DateTime::from_timestamp(timestamp, 0).unwrap_or_default().format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed once with Tencent's official SDK, pinned:
    ///
    /// ```text
    /// python3 -m venv v && v/bin/pip install tencentcloud-sdk-python-common==3.1.195 tencentcloud-sdk-python-sms==3.1.153
    /// v/bin/python - <<'PY'
    /// from unittest import mock
    /// from tencentcloud.common import credential
    /// from tencentcloud.common.http.request import RequestInternal
    /// from tencentcloud.sms.v20210111 import sms_client
    /// client = sms_client.SmsClient(credential.Credential(
    ///     "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE"), "ap-guangzhou")
    /// params = {"PhoneNumberSet": ["+8613800000001"], "SmsSdkAppId": "1400006666", "SignName": "中华骨髓库四川省分库",
    ///           "TemplateId": "449739", "TemplateParamSet": ["123456", "5"],
    ///           "SessionContext": "018f3e2c-0000-7000-8000-000000000001"}
    /// req = RequestInternal("sms.tencentcloudapi.com", "POST", "/")
    /// with mock.patch("time.time", return_value=1764000000):
    ///     client._build_req_with_tc3_signature("SendSms", params, req)
    /// print(repr(req.data)); print(req.header["Authorization"])
    /// PY
    /// ```
    const SDK_BODY: &str = r#"{"PhoneNumberSet": ["+8613800000001"], "SmsSdkAppId": "1400006666", "SignName": "\u4e2d\u534e\u9aa8\u9ad3\u5e93\u56db\u5ddd\u7701\u5206\u5e93", "TemplateId": "449739", "TemplateParamSet": ["123456", "5"], "SessionContext": "018f3e2c-0000-7000-8000-000000000001"}"#;
    const SDK_AUTHORIZATION: &str = "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2025-11-24/sms/tc3_request, SignedHeaders=content-type;host, Signature=b4b670a0c1ddba9708ea963e8e975a0ee4fea24077c1cf9cdec05de72bf5fdd5";

    #[test]
    fn matches_the_official_sdk() {
        let request = SignedRequest {
            host: "sms.tencentcloudapi.com",
            content_type: "application/json",
            payload: SDK_BODY.as_bytes(),
            timestamp: 1_764_000_000,
            service: "sms",
        };
        let ours = authorization("AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE", "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE", &request);
        assert_eq!(ours, SDK_AUTHORIZATION);
    }
}
