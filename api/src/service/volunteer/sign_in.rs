//! Volunteers sign in with their phone and a one-time code sent by SMS.
//!
//! Every answer is the same whether or not the phone belongs to a volunteer: a code goes to any
//! valid mainland mobile (an unknown one may go on to enrol), and the limits count the same.
//! Only the holder of the phone, by entering the code, learns which it is.

use chrono::{Duration, Utc};
use entity::sign_in_code::CodePurpose;
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::codes::{CodeRecipient, CodeSent, Codes, secs};
use super::contacts::ContactService;
use super::enrolment;
use super::records::{self, VolunteerService};
use crate::db;
use crate::domain::Phone;
use crate::error::{AppError, AppResult};
use crate::pii::KeyRing;
use crate::service::audit::{self, AuditAction, AuditEntry};
use crate::service::rate_limit::{self, Limit};
use crate::service::sessions::{Session, SessionService};
use crate::service::{ClientAddress, Principal};

/// The result of a correct code.
#[derive(Clone, Debug)]
pub enum SignedIn {
    /// The phone is a volunteer's primary phone: their session.
    Volunteer(Session),
    /// No volunteer has this phone: the holder may enrol, with this ticket as proof of the phone.
    Unregistered { enrolment_ticket: String },
}

#[derive(Clone, Debug)]
pub struct VolunteerSignIn {
    db: DatabaseConnection,
    keys: std::sync::Arc<KeyRing>,
    codes: Codes,
    sessions: SessionService,
    volunteers: VolunteerService,
    /// Promotes a number staff recorded when the volunteer signs in with it.
    contacts: ContactService,
}

impl VolunteerSignIn {
    #[must_use]
    pub(crate) fn new(
        db: DatabaseConnection,
        keys: std::sync::Arc<KeyRing>,
        codes: Codes,
        sessions: SessionService,
        volunteers: VolunteerService,
        contacts: ContactService,
    ) -> Self {
        Self { db, keys, codes, sessions, volunteers, contacts }
    }

    /// Sends a fresh code to `phone`. Earlier codes stop working.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `phone` when it is not a mainland mobile; RATE_LIMITED within the resend
    /// cooldown, or past the per-phone or per-address limit.
    pub async fn request_code(
        &self,
        phone: &str,
        client: ClientAddress,
        request_id: Option<&str>,
    ) -> AppResult<CodeSent> {
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        self.limit_address(client).await?;
        let holder = self.volunteers.by_primary_phone(&self.db, &self.keys.blind_index.phone(&phone)).await?;
        let to = CodeRecipient {
            phone,
            volunteer_id: holder.as_ref().map(|holder| holder.id),
            branch_code: holder
                .map_or_else(|| self.codes.settings().default_branch.clone(), |holder| holder.branch_code),
        };
        let ttl = Duration::seconds(secs(self.codes.settings().ttl_secs));
        let sent = self.codes.send(CodePurpose::SignIn, to, ttl, Utc::now()).await?;
        tracing::info!(request_id, "sign-in code requested");
        Ok(sent)
    }

    /// Checks `code` against the latest one sent to `phone`. A wrong code counts against it; at
    /// the limit it is locked, even for the right code.
    ///
    /// # Errors
    /// BAD_USER_INPUT on `phone` or `code`; RATE_LIMITED past the per-address limit.
    pub async fn sign_in(
        &self,
        phone: &str,
        code: &str,
        client: ClientAddress,
        request_id: Option<&str>,
    ) -> AppResult<SignedIn> {
        let phone = Phone::parse_mainland_mobile(phone).map_err(AppError::field("phone"))?;
        self.limit_address(client).await?;
        let phone_index = self.keys.blind_index.phone(&phone);
        let now = Utc::now();
        db::write!(&self.db, |txn| {
            if let Err(refused) = self.codes.spend(txn, CodePurpose::SignIn, &phone_index, code, now).await? {
                return Ok(Err(refused)); // the wrong try is committed
            }
            let holder = match self.volunteers.by_primary_phone(txn, &phone_index).await? {
                Some(holder) => Some(holder),
                // A number staff recorded becomes the sign-in number by signing in with it.
                None => self.contacts.promote_reported_phone(txn, &phone, &phone_index, now, request_id).await?,
            };
            let Some(holder) = holder else {
                let ttl = Duration::seconds(secs(self.codes.settings().enrolment_ticket_ttl_secs));
                let enrolment_ticket = enrolment::issue_ticket(txn, &self.keys, &phone_index, now + ttl).await?;
                return Ok(Ok(SignedIn::Unregistered { enrolment_ticket }));
            };
            records::mark_primary_phone_verified(txn, holder.id, now).await?;
            enrolment::volunteer_signed_in(txn, holder.id, now).await?;
            let principal = Principal::Volunteer { id: holder.id };
            let session = self.sessions.open(txn, &principal, holder.credential_version, Uuid::now_v7()).await?;
            let entry = AuditEntry { request_id, ..Default::default() };
            audit::record(txn, &principal, AuditAction::VolunteerSignIn, entry).await?;
            Ok(Ok(SignedIn::Volunteer(session)))
        })?
    }

    async fn limit_address(&self, client: ClientAddress) -> AppResult<()> {
        let limit = Limit { max: self.codes.settings().per_address_per_hour, window: Duration::hours(1) };
        rate_limit::hit(&self.db, &client.rate_key(&self.keys.blind_index, "sign_in"), limit, Utc::now()).await
    }
}
