//! Issuing and verifying access tokens.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::principal::{Principal, StaffRole};
use crate::config::AuthSettings;
use crate::digest::hex;

/// The JWT `typ` of an access token; anything else is refused.
const ACCESS_TYPE: &str = "at+jwt";
const LEEWAY_SECS: u64 = 30;

/// PKCS#8 v1 header of an Ed25519 private key: what precedes the 32-byte seed in DER.
const ED25519_PKCS8_PREFIX: [u8; 16] =
    [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The subject's id: a volunteer, a staff account or a hospital.
    pub sub: Uuid,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    /// `volunteer`, `staff` or `hospital`.
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<StaffRole>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The subject's credential version when the token was issued: a password change or a
    /// disable bumps it, ending every session at once.
    pub ver: i32,
    /// The refresh session (its family) the token was issued in, when there is one: signing
    /// out ends the access tokens of that session too, not only its refresh token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
}

/// A verified access token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub principal: Principal,
    pub credential_version: i32,
    pub session: Option<Uuid>,
}

/// Why a token was refused. Reported to clients only as UNAUTHENTICATED.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a valid access token")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

/// The token signer and verifier of this deployment.
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    key_id: String,
    public_x: String,
    issuer: String,
    audience: String,
    ttl_secs: i64,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens").field("key_id", &self.key_id).field("issuer", &self.issuer).finish_non_exhaustive()
    }
}

impl Tokens {
    /// From the 32-byte Ed25519 seed of the signing key.
    #[must_use]
    pub fn new(seed: &[u8; 32], settings: &AuthSettings) -> Self {
        let public = SigningKey::from_bytes(seed).verifying_key().to_bytes();
        let mut der = ED25519_PKCS8_PREFIX.to_vec();
        der.extend_from_slice(seed);
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = LEEWAY_SECS;
        Self {
            encoding: EncodingKey::from_ed_der(&der),
            decoding: DecodingKey::from_ed_der(&public),
            validation,
            key_id: hex(&Sha256::digest(public)[..8]),
            public_x: URL_SAFE_NO_PAD.encode(public),
            issuer: settings.issuer.clone(),
            audience: settings.audience.clone(),
            ttl_secs: i64::try_from(settings.access_token_ttl_secs).unwrap_or(900),
        }
    }

    /// An access token for `principal`, valid from `now` for the configured lifetime.
    ///
    /// # Errors
    /// An anonymous principal has no token.
    pub fn issue(
        &self,
        principal: &Principal,
        credential_version: i32,
        session: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Result<String, TokenError> {
        let (kind, sub, role, branch) = match principal {
            Principal::Anonymous => return Err(TokenError::Invalid),
            Principal::Volunteer { id } => ("volunteer", *id, None, None),
            Principal::Staff { id, role, branch } => ("staff", *id, Some(*role), Some(branch.clone())),
            Principal::Hospital { id, branch } => ("hospital", *id, None, Some(branch.clone())),
        };
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            sub,
            exp: now.timestamp() + self.ttl_secs,
            nbf: now.timestamp(),
            iat: now.timestamp(),
            kind: kind.into(),
            role,
            branch,
            ver: credential_version,
            sid: session,
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TYPE.into());
        header.kid = Some(self.key_id.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).map_err(|_| TokenError::Invalid)
    }

    /// The principal an access token names.
    ///
    /// # Errors
    /// Any token that is not an unexpired, well-formed `at+jwt` of ours.
    pub fn verify(&self, token: &str) -> Result<Verified, TokenError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Invalid)?;
        if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(ACCESS_TYPE) {
            return Err(TokenError::Invalid);
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(|err| {
            match err.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => TokenError::Expired,
                _ => TokenError::Invalid,
            }
        })?;
        let claims = data.claims;
        let principal = match (claims.kind.as_str(), claims.role, claims.branch) {
            ("volunteer", None, None) => Principal::Volunteer { id: claims.sub },
            ("staff", Some(role), Some(branch)) => Principal::Staff { id: claims.sub, role, branch },
            ("hospital", None, Some(branch)) => Principal::Hospital { id: claims.sub, branch },
            _ => return Err(TokenError::Invalid),
        };
        Ok(Verified { principal, credential_version: claims.ver, session: claims.sid })
    }

    /// The lifetime of access tokens, in seconds.
    #[must_use]
    pub fn ttl_secs(&self) -> i64 {
        self.ttl_secs
    }

    /// The JSON Web Key Set partners verify tokens with.
    #[must_use]
    pub fn jwks(&self) -> Value {
        json!({ "keys": [{
            "kty": "OKP", "crv": "Ed25519", "x": self.public_x,
            "kid": self.key_id, "alg": "EdDSA", "use": "sig",
        }] })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> Tokens {
        Tokens::new(&[7; 32], &AuthSettings::default())
    }

    #[test]
    fn a_token_round_trips_to_its_principal() {
        let tokens = tokens();
        let staff = Principal::Staff { id: Uuid::now_v7(), role: StaffRole::BranchCoordinator, branch: "51".into() };
        let token = tokens.issue(&staff, 3, None, Utc::now()).unwrap();
        assert_eq!(tokens.verify(&token), Ok(Verified { principal: staff, credential_version: 3, session: None }));
    }

    #[test]
    fn expiry_beyond_the_leeway_is_refused_and_within_it_accepted() {
        let tokens = tokens();
        let volunteer = Principal::Volunteer { id: Uuid::now_v7() };
        let stale = tokens.issue(&volunteer, 1, None, Utc::now() - chrono::Duration::seconds(900 + 31)).unwrap();
        assert_eq!(tokens.verify(&stale), Err(TokenError::Expired));
        let fresh_enough = tokens.issue(&volunteer, 1, None, Utc::now() - chrono::Duration::seconds(900 + 20)).unwrap();
        assert!(tokens.verify(&fresh_enough).is_ok());
    }

    #[test]
    fn another_deployments_key_is_refused() {
        let theirs = Tokens::new(&[8; 32], &AuthSettings::default());
        let token = theirs.issue(&Principal::Volunteer { id: Uuid::now_v7() }, 1, None, Utc::now()).unwrap();
        assert_eq!(tokens().verify(&token), Err(TokenError::Invalid));
    }
}
