//! Use cases. Each service takes the acting [`Principal`] and checked input, owns the rules,
//! and returns domain values or an [`AppError`](crate::error::AppError). Transports (GraphQL,
//! HTTP) call services; services never know which transport called them.

pub mod alerts;
pub mod audit;
pub mod benefits;
mod branches;
pub mod cases;
pub mod deliveries;
pub mod development;
pub mod green_channel;
mod hospitals;
pub mod idempotency;
pub mod keyset;
pub mod letters;
mod opaque_token;
mod rate_limit;
pub mod retention;
mod second_factor;
mod sessions;
mod staff;
pub mod volunteer;
pub mod webhooks;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

/// The caller and its capabilities live with authentication (`crate::auth`), below the
/// services: services take them, and nothing below imports a service.
pub use crate::auth::{
    BranchScope, Coordinator, Enroller, NationalAdmin, OwnRecord, PartnerHospital, Principal, StaffRole, Unmasker,
    VolunteerReader,
};
pub use branches::BranchService;
pub use hospitals::{HospitalService, HospitalView, IssuedCredentials, NewHospital};
pub use sessions::{Session, SessionService};
pub use staff::{CreatedStaff, NewStaff, StaffService};
pub use volunteer::{
    AvailabilityService, CodeSent, ContactService, EnrolmentService, InboxService, NewVolunteer, PersonalField,
    ProfileService, SignedIn, UnmaskPurpose, VolunteerService, VolunteerSignIn, VolunteerView,
};

use crate::auth::Tokens;
use crate::config::Settings;
use crate::error::{AppError, AppResult};
use crate::jobs::Jobs;
use crate::messaging::Messaging;
use crate::pii::KeyRing;

/// Every service, built once at start-up and shared by all requests.
#[derive(Clone, Debug)]
pub struct Services {
    db: DatabaseConnection,
    pub branches: BranchService,
    pub staff: StaffService,
    pub sessions: SessionService,
    pub hospitals: HospitalService,
    pub volunteers: VolunteerService,
    pub volunteer_sign_in: VolunteerSignIn,
    pub enrolment: EnrolmentService,
    pub contacts: ContactService,
    pub recovery: volunteer::RecoveryService,
    pub availability: AvailabilityService,
    pub inbox: InboxService,
    pub profile: ProfileService,
    pub family: volunteer::FamilyService,
    pub privacy: volunteer::PrivacyService,
    pub alerts: alerts::StaffAlertService,
    pub attempts: volunteer::ContactAttemptService,
    /// Donation cases, from the search hit to follow-up.
    pub cases: cases::CaseService,
    /// Fast-track admission requests to partner hospitals.
    pub green_channel: green_channel::GreenChannel,
    /// Partner hospitals' webhook endpoints and deliveries.
    pub webhooks: webhooks::WebhookService,
    /// Benefit rules, entitlements and their redemption at hospitals.
    pub benefits: benefits::Benefits,
    pub letters: letters::Letters,
    /// Status changes and their history.
    pub status: volunteer::StatusLog,
    pub search: retention::SearchService,
    pub corrections: volunteer::CorrectionService,
    pub campaigns: retention::CampaignService,
    pub exports: retention::ExportService,
    pub work_queue: retention::WorkQueue,
    pub attrition: retention::Attrition,
    pub retention_jobs: retention::RetentionJobs,
    /// The outbox and its delivery, which every service that messages a volunteer uses.
    pub messaging: Messaging,
    /// Every queue and periodic task, which [`crate::App::serve`] starts.
    pub jobs: Jobs,
    /// Personal-data keys, for the services of later tables.
    pub keys: Arc<KeyRing>,
}

impl Services {
    /// The connection, for the services that are plain functions over it (the audit trail).
    #[must_use]
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Every service, wired once: the one place that knows who depends on whom.
    #[must_use]
    #[allow(clippy::too_many_lines)] // one line or two per service, and splitting it hides the wiring
    pub fn new(
        db: DatabaseConnection,
        keys: Arc<KeyRing>,
        tokens: Arc<Tokens>,
        messaging: Messaging,
        settings: &Settings,
        letter_font: letters::LetterFont,
    ) -> Self {
        let codes = settings.auth.volunteer_codes.clone();
        let self_service = settings.volunteers.clone();
        let development = !settings.is_production();
        let sessions = SessionService::new(db.clone(), Arc::clone(&tokens));
        let volunteers = VolunteerService::new(db.clone(), Arc::clone(&keys), messaging.clone(), self_service);
        let codes = volunteer::Codes::new(db.clone(), Arc::clone(&keys), messaging.clone(), codes);
        let search = retention::SearchService::new(db.clone(), Arc::clone(&keys), volunteers.clone());
        let work_queue = retention::WorkQueue::new(db.clone(), messaging.clone(), volunteers.clone());
        let attrition = retention::Attrition::new(db.clone(), messaging.clone());
        let contacts =
            ContactService::new(db.clone(), Arc::clone(&keys), codes.clone(), volunteers.clone(), messaging.clone());
        let volunteer_sign_in = VolunteerSignIn::new(
            db.clone(),
            Arc::clone(&keys),
            codes.clone(),
            sessions.clone(),
            volunteers.clone(),
            contacts.clone(),
        );
        let recovery = volunteer::RecoveryService::new(
            db.clone(),
            Arc::clone(&keys),
            codes,
            sessions.clone(),
            volunteers.clone(),
            contacts.clone(),
            messaging.clone(),
        );
        let availability =
            AvailabilityService::new(db.clone(), Arc::clone(&keys), volunteers.clone(), messaging.clone());
        let campaigns = retention::CampaignService::new(db.clone(), Arc::clone(&keys), messaging.clone());
        let retention_jobs =
            retention::RetentionJobs::new(db.clone(), Arc::clone(&keys), work_queue.clone(), attrition.clone());
        let [queue_refresh, attrition_snapshot] = retention_jobs.periodic();
        let attempts = volunteer::ContactAttemptService::new(db.clone(), Arc::clone(&keys), volunteers.clone());
        let webhooks = webhooks::WebhookService::new(
            db.clone(),
            Arc::clone(&keys),
            settings.webhooks.clone(),
            development,
            Arc::clone(messaging.metrics()),
        );
        let green_channel =
            green_channel::GreenChannel::new(db.clone(), Arc::clone(&keys), volunteers.clone(), webhooks.clone());
        let benefits = benefits::Benefits::new(
            db.clone(),
            Arc::clone(&keys),
            volunteers.clone(),
            messaging.clone(),
            webhooks.clone(),
            settings.benefits.clone(),
        );
        let letters = letters::Letters::new(
            db.clone(),
            Arc::clone(&keys),
            volunteers.clone(),
            (letter_font, settings.letters.clone()),
        );
        let cases = cases::CaseService::new(
            db.clone(),
            Arc::clone(&keys),
            volunteers.clone(),
            attempts.clone(),
            messaging.clone(),
            (green_channel.clone(), benefits.clone()),
        );
        // Every kind of background work, in one place: a new kind is one line here.
        let jobs = Jobs::new(db.clone(), Arc::clone(messaging.metrics()), alerts::job_failed)
            .queue(Arc::new(messaging.clone()))
            .handler(Arc::new(retention::CampaignLaunch(campaigns.clone())), Some(campaigns.launches()))
            .periodic(Arc::new(volunteer::PauseTask(availability.clone())))
            .periodic(queue_refresh)
            .periodic(attrition_snapshot)
            .periodic(Arc::new(cases::CaseTask(cases.clone())))
            .periodic(Arc::new(cases::FollowUpTask(cases.clone())))
            .periodic(Arc::new(cases::FiguresTask(cases.clone())))
            .handler(Arc::new(webhooks::WebhookDelivery::new(webhooks.clone())), Some(webhooks.wake_handle()))
            .periodic(Arc::new(green_channel::DeadlineTask(green_channel.clone())))
            .periodic(Arc::new(letters::LinkPurge(letters.clone())));
        Self {
            jobs,
            enrolment: EnrolmentService::new(db.clone(), Arc::clone(&keys), volunteers.clone(), sessions.clone()),
            contacts,
            recovery,
            availability,
            inbox: InboxService::new(db.clone(), Arc::clone(&keys), volunteers.clone()),
            profile: ProfileService::new(db.clone(), Arc::clone(&keys), volunteers.clone()),
            family: volunteer::FamilyService::new(db.clone(), Arc::clone(&keys), volunteers.clone(), messaging.clone()),
            privacy: volunteer::PrivacyService::new(db.clone(), Arc::clone(&keys), volunteers.clone()),
            alerts: alerts::StaffAlertService::new(db.clone()),
            attempts,
            cases,
            green_channel,
            benefits,
            letters,
            webhooks,
            status: volunteer::StatusLog::new(Arc::clone(&keys)),
            exports: retention::ExportService::new(db.clone(), search.clone()),
            search,
            corrections: volunteer::CorrectionService::new(db.clone(), Arc::clone(&keys), volunteers.clone()),
            campaigns,
            retention_jobs,
            work_queue,
            attrition,
            volunteers,
            volunteer_sign_in,
            branches: BranchService::new(db.clone()),
            staff: StaffService::new(db.clone(), sessions.clone(), Arc::clone(&keys)),
            sessions,
            hospitals: HospitalService::new(db.clone(), tokens, Arc::clone(&keys)),
            db,
            messaging,
            keys,
        }
    }
}

/// The network address a request came from, when known (not for in-process calls), for
/// per-address rate limits.
#[derive(Clone, Copy, Debug, Default)]
pub struct ClientAddress(pub Option<std::net::IpAddr>);

impl ClientAddress {
    /// The part of the address that identifies one client: the whole IPv4 address, or the /64
    /// of an IPv6 one (a single host is handed a whole /64 and can rotate within it).
    #[must_use]
    pub fn limited_part(&self) -> String {
        match self.0 {
            None => "unknown".into(),
            Some(std::net::IpAddr::V4(v4)) => v4.to_string(),
            Some(std::net::IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }

    /// The rate-limit key for `scope`'s per-address limit: the address's keyed digest, so that
    /// the counter table holds no address in clear.
    #[must_use]
    pub fn rate_key(&self, index: &crate::pii::BlindIndex, scope: &str) -> String {
        format!("{scope}:address:{}", crate::digest::hex(&index.digest("client_address", &self.limited_part())))
    }
}

/// The id of the request a service call serves, for the audit trail.
#[derive(Clone, Debug, Default)]
pub struct RequestId(pub Option<String>);

impl RequestId {
    #[must_use]
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// A trimmed, non-empty text of at most `max` characters, as partners and staff type notes,
/// reasons and titles; a refusal names `field`.
///
/// # Errors
/// BAD_USER_INPUT on `field`.
pub(crate) fn bounded_text(field: &'static str, value: &str, max: usize) -> AppResult<String> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(AppError::invalid(field, format!("must be 1 to {max} characters")));
    }
    Ok(value.to_owned())
}
