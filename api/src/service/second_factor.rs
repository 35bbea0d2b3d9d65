//! TOTP (RFC 6238) second factor, required of the staff roles that can unmask personal data.

use rand::RngCore;
use totp_rs::{Builder, Totp};

use super::StaffRole;
use crate::error::{AppError, AppResult};

/// Shown by authenticator apps beside the account name.
const ISSUER: &str = "CMDP Registry";

/// Whether a role must sign in with a one-time code: the roles that can unmask personal data.
#[must_use]
pub fn required_for(role: StaffRole) -> bool {
    role.may_unmask()
}

/// A new secret, to store encrypted, and its `otpauth://` URI, to show the user once.
#[derive(Debug)]
pub struct Enrolment {
    pub secret: Vec<u8>,
    pub uri: String,
}

/// Draws a 160-bit secret, as RFC 4226 recommends.
pub fn enrol(account_name: &str) -> AppResult<Enrolment> {
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut secret);
    let uri = totp(secret.clone(), account_name)?
        .to_url()
        .map_err(|err| AppError::internal(anyhow::anyhow!("TOTP URI: {err:?}")))?;
    Ok(Enrolment { secret, uri })
}

/// The time step a code is valid for at `now` (one step of skew either way), if it is valid.
#[must_use]
pub fn accepted_step(secret: &[u8], code: &str, now_secs: u64) -> Option<u64> {
    totp(secret.to_vec(), "check").ok()?.check(code.trim(), now_secs)
}

fn totp(secret: Vec<u8>, account_name: &str) -> AppResult<Totp> {
    Builder::new()
        .with_secret(secret)
        .with_account_name(account_name)
        .with_issuer(Some(ISSUER))
        .build()
        .map_err(|err| AppError::internal(anyhow::anyhow!("TOTP: {err:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_from_the_enrolled_secret_is_accepted_once_per_step_and_others_are_not() {
        let enrolment = enrol("li.ming").unwrap();
        assert!(enrolment.uri.starts_with("otpauth://totp/CMDP%20Registry:li.ming?"), "{}", enrolment.uri);
        let app = Totp::from_url(&enrolment.uri).unwrap();
        let now = 1_764_000_000;
        let code = app.generate(now).to_string();
        assert_eq!(accepted_step(&enrolment.secret, &code, now), Some(now / 30));
        assert_eq!(accepted_step(&enrolment.secret, &code, now + 30), Some(now / 30), "one step of skew");
        assert_eq!(accepted_step(&enrolment.secret, &code, now + 300), None);
        assert_eq!(accepted_step(&enrolment.secret, "000000x", now), None);
    }
}
