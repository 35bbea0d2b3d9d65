//! The audit trail: who did what to whom, when, and why. Rows are only ever inserted; the
//! database refuses UPDATE and DELETE on the table.

use chrono::Utc;
use entity::audit_event;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait};
use uuid::Uuid;

use super::{Principal, keyset};
use crate::error::AppResult;

/// What an audit row records. One variant per action, each with the one spelling stored in
/// `audit_event.action` (the stored values are those rows have always had, whatever their
/// tense, so old rows need no migration).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuditAction {
    AdmissionAccepted,
    AdmissionCancelled,
    AdmissionDeclined,
    AdmissionRequested,
    AdmissionRescheduled,
    AdmissionRerouted,
    BenefitRuleDefined,
    BeneficiaryNamed,
    EntitlementRedeemed,
    EntitlementRevoked,
    LeaveLetterIssued,
    LeaveLetterRevoked,
    LeaveLetterDownloaded,
    CaseOpened,
    CaseMilestone,
    CaseEnded,
    CaseDatesPlanned,
    CaseRequestRaised,
    CaseSessionBooked,
    CaseRequestResolved,
    CaseFollowUpAnswered,
    CampaignCancelled,
    CampaignCreated,
    CampaignLaunched,
    HospitalCredentialsIssued,
    HospitalRegister,
    RefreshTokenReuse,
    StaffCreate,
    StaffDisable,
    StaffPasswordChange,
    StaffSecondFactorReset,
    StaffSignIn,
    StaffAlertResolve,
    VolunteerConfirm,
    VolunteerContactAttempt,
    VolunteerCorrected,
    VolunteerEnrol,
    VolunteerEnrolOffline,
    VolunteerExport,
    VolunteerFamilyInfoPack,
    VolunteerMarkedLost,
    VolunteerNameCorrectionAccepted,
    VolunteerNameCorrectionRejected,
    VolunteerNameCorrectionRequested,
    VolunteerPause,
    VolunteerPhoneChange,
    /// Staff recorded a number learned for a volunteer, unverified.
    VolunteerPhoneRecorded,
    /// A volunteer reclaimed their record from a new phone.
    VolunteerRecovered,
    /// A volunteer reclaiming their record asked the branch to call them back.
    VolunteerRecoveryCallBack,
    /// Someone with a new phone tried to reclaim a record by name and ID number, matched or not.
    VolunteerRecoveryTry,
    VolunteerReplyOptOut,
    VolunteerReplyPause,
    VolunteerReplyRecommit,
    VolunteerResume,
    VolunteerSignIn,
    VolunteerStatusSet,
    VolunteerUnmask,
    VolunteerWithdraw,
    VolunteerWithdrawPurged,
    VolunteerExportApproved,
    VolunteerExportDownloaded,
    VolunteerExportRequested,
    WebhookEndpointRegistered,
    WebhookSecretRotated,
    WebhookRedelivered,
}

impl AuditAction {
    pub const ALL: [Self; 65] = [
        Self::CaseOpened,
        Self::CaseMilestone,
        Self::CaseEnded,
        Self::CaseDatesPlanned,
        Self::CaseRequestRaised,
        Self::CaseSessionBooked,
        Self::CaseRequestResolved,
        Self::CaseFollowUpAnswered,
        Self::CampaignCancelled,
        Self::CampaignCreated,
        Self::CampaignLaunched,
        Self::HospitalCredentialsIssued,
        Self::HospitalRegister,
        Self::RefreshTokenReuse,
        Self::StaffCreate,
        Self::StaffDisable,
        Self::StaffPasswordChange,
        Self::StaffSecondFactorReset,
        Self::StaffSignIn,
        Self::StaffAlertResolve,
        Self::VolunteerConfirm,
        Self::VolunteerContactAttempt,
        Self::VolunteerCorrected,
        Self::VolunteerEnrol,
        Self::VolunteerEnrolOffline,
        Self::VolunteerExport,
        Self::VolunteerFamilyInfoPack,
        Self::VolunteerMarkedLost,
        Self::VolunteerNameCorrectionAccepted,
        Self::VolunteerNameCorrectionRejected,
        Self::VolunteerNameCorrectionRequested,
        Self::VolunteerPause,
        Self::VolunteerPhoneChange,
        Self::VolunteerPhoneRecorded,
        Self::VolunteerRecovered,
        Self::VolunteerRecoveryCallBack,
        Self::VolunteerRecoveryTry,
        Self::VolunteerReplyOptOut,
        Self::VolunteerReplyPause,
        Self::VolunteerReplyRecommit,
        Self::VolunteerResume,
        Self::VolunteerSignIn,
        Self::VolunteerStatusSet,
        Self::VolunteerUnmask,
        Self::VolunteerWithdraw,
        Self::VolunteerWithdrawPurged,
        Self::VolunteerExportApproved,
        Self::VolunteerExportDownloaded,
        Self::VolunteerExportRequested,
        Self::AdmissionAccepted,
        Self::AdmissionCancelled,
        Self::AdmissionDeclined,
        Self::AdmissionRequested,
        Self::AdmissionRescheduled,
        Self::AdmissionRerouted,
        Self::BenefitRuleDefined,
        Self::BeneficiaryNamed,
        Self::EntitlementRedeemed,
        Self::EntitlementRevoked,
        Self::LeaveLetterIssued,
        Self::LeaveLetterRevoked,
        Self::LeaveLetterDownloaded,
        Self::WebhookEndpointRegistered,
        Self::WebhookSecretRotated,
        Self::WebhookRedelivered,
    ];

    /// The stored spelling.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AdmissionAccepted => "admission.accepted",
            Self::AdmissionCancelled => "admission.cancelled",
            Self::AdmissionDeclined => "admission.declined",
            Self::AdmissionRequested => "admission.requested",
            Self::AdmissionRescheduled => "admission.rescheduled",
            Self::AdmissionRerouted => "admission.rerouted",
            Self::BenefitRuleDefined => "benefit_rule.defined",
            Self::BeneficiaryNamed => "entitlement.beneficiary_named",
            Self::EntitlementRedeemed => "entitlement.redeemed",
            Self::EntitlementRevoked => "entitlement.revoked",
            Self::LeaveLetterIssued => "leave_letter.issued",
            Self::LeaveLetterRevoked => "leave_letter.revoked",
            Self::LeaveLetterDownloaded => "leave_letter.downloaded",
            Self::WebhookEndpointRegistered => "webhook.endpoint_registered",
            Self::WebhookSecretRotated => "webhook.secret_rotated",
            Self::WebhookRedelivered => "webhook.redelivered",
            Self::CaseOpened => "case.opened",
            Self::CaseMilestone => "case.milestone",
            Self::CaseEnded => "case.ended",
            Self::CaseDatesPlanned => "case.dates_planned",
            Self::CaseRequestRaised => "case.request_raised",
            Self::CaseSessionBooked => "case.session_booked",
            Self::CaseRequestResolved => "case.request_resolved",
            Self::CaseFollowUpAnswered => "case.follow_up_answered",
            Self::CampaignCancelled => "campaign.cancelled",
            Self::CampaignCreated => "campaign.created",
            Self::CampaignLaunched => "campaign.launched",
            Self::HospitalCredentialsIssued => "hospital.credentials_issued",
            Self::HospitalRegister => "hospital.register",
            Self::RefreshTokenReuse => "refresh_token.reuse",
            Self::StaffCreate => "staff.create",
            Self::StaffDisable => "staff.disable",
            Self::StaffPasswordChange => "staff.password_change",
            Self::StaffSecondFactorReset => "staff.second_factor_reset",
            Self::StaffSignIn => "staff.sign_in",
            Self::StaffAlertResolve => "staff_alert.resolve",
            Self::VolunteerConfirm => "volunteer.confirm",
            Self::VolunteerContactAttempt => "volunteer.contact_attempt",
            Self::VolunteerCorrected => "volunteer.corrected",
            Self::VolunteerEnrol => "volunteer.enrol",
            Self::VolunteerEnrolOffline => "volunteer.enrol_offline",
            Self::VolunteerExport => "volunteer.export",
            Self::VolunteerFamilyInfoPack => "volunteer.family_info_pack",
            Self::VolunteerMarkedLost => "volunteer.marked_lost",
            Self::VolunteerNameCorrectionAccepted => "volunteer.name_correction_accepted",
            Self::VolunteerNameCorrectionRejected => "volunteer.name_correction_rejected",
            Self::VolunteerNameCorrectionRequested => "volunteer.name_correction_requested",
            Self::VolunteerPause => "volunteer.pause",
            Self::VolunteerPhoneChange => "volunteer.phone_change",
            Self::VolunteerPhoneRecorded => "volunteer.phone_recorded",
            Self::VolunteerRecovered => "volunteer.recovered",
            Self::VolunteerRecoveryCallBack => "volunteer.recovery_call_back",
            Self::VolunteerRecoveryTry => "volunteer.recovery_try",
            Self::VolunteerReplyOptOut => "volunteer.reply_opt_out",
            Self::VolunteerReplyPause => "volunteer.reply_pause",
            Self::VolunteerReplyRecommit => "volunteer.reply_recommit",
            Self::VolunteerResume => "volunteer.resume",
            Self::VolunteerSignIn => "volunteer.sign_in",
            Self::VolunteerStatusSet => "volunteer.status_set",
            Self::VolunteerUnmask => "volunteer.unmask",
            Self::VolunteerWithdraw => "volunteer.withdraw",
            Self::VolunteerWithdrawPurged => "volunteer.withdraw_purged",
            Self::VolunteerExportApproved => "volunteer_export.approved",
            Self::VolunteerExportDownloaded => "volunteer_export.downloaded",
            Self::VolunteerExportRequested => "volunteer_export.requested",
        }
    }
}

/// What else an event records, besides its action. `detail` must not carry personal data.
#[derive(Clone, Debug, Default)]
pub struct AuditEntry<'a> {
    pub subject: Option<(&'static str, Uuid)>,
    pub field: Option<&'static str>,
    pub purpose: Option<&'static str>,
    pub request_id: Option<&'a str>,
    pub detail: Option<String>,
}

/// Appends `action` with `entry` as done by `actor`, on `conn` (the transaction of the change
/// it records).
pub async fn record<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    action: AuditAction,
    entry: AuditEntry<'_>,
) -> AppResult<()> {
    let (kind, id, role, branch) = match actor {
        Principal::Anonymous => ("anonymous", None, None, None),
        Principal::Volunteer { id } => ("volunteer", Some(*id), None, None),
        Principal::Staff { id, role, branch } => {
            ("staff", Some(*id), Some(role.as_str().to_owned()), Some(branch.clone()))
        }
        Principal::Hospital { id, branch } => ("hospital", Some(*id), None, Some(branch.clone())),
    };
    audit_event::Entity::insert(audit_event::ActiveModel {
        id: Set(Uuid::now_v7()),
        at: Set(Utc::now()),
        actor_kind: Set(kind.into()),
        actor_id: Set(id),
        actor_role: Set(role),
        actor_branch: Set(branch),
        action: Set(action.as_str().into()),
        subject_kind: Set(entry.subject.map(|(kind, _)| kind.to_owned())),
        subject_id: Set(entry.subject.map(|(_, id)| id)),
        field: Set(entry.field.map(str::to_owned)),
        purpose: Set(entry.purpose.map(str::to_owned)),
        request_id: Set(entry.request_id.map(str::to_owned)),
        detail: Set(entry.detail),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(())
}

/// Filters of an audit search; all optional.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub actor_id: Option<Uuid>,
    pub subject_id: Option<Uuid>,
    pub from: Option<chrono::DateTime<Utc>>,
    pub to: Option<chrono::DateTime<Utc>>,
}

/// One page of the audit trail, newest first, and the cursor of the next.
#[derive(Clone, Debug)]
pub struct AuditPage {
    pub events: Vec<audit_event::Model>,
    pub next: Option<String>,
}

/// Pages through the audit trail, newest first, by a keyset cursor (time and id) that stays
/// stable while rows are appended. Only auditors and national administrators read it.
///
/// # Errors
/// FORBIDDEN for anyone else; BAD_USER_INPUT for a malformed cursor or page size.
pub async fn search<C: ConnectionTrait>(
    conn: &C,
    reader: &Principal,
    filter: AuditFilter,
    first: u64,
    after: Option<&str>,
) -> AppResult<AuditPage> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};

    use super::StaffRole;

    match reader {
        Principal::Staff { role: StaffRole::Auditor | StaffRole::NationalAdmin, .. } => {}
        _ => return Err(reader.refusal()),
    }
    keyset::check_first(first, 200)?;
    let mut query = audit_event::Entity::find();
    if let Some(action) = filter.action {
        query = query.filter(audit_event::Column::Action.eq(action));
    }
    if let Some(actor) = filter.actor_id {
        query = query.filter(audit_event::Column::ActorId.eq(actor));
    }
    if let Some(subject) = filter.subject_id {
        query = query.filter(audit_event::Column::SubjectId.eq(subject));
    }
    if let Some(from) = filter.from {
        query = query.filter(audit_event::Column::At.gte(from));
    }
    if let Some(to) = filter.to {
        query = query.filter(audit_event::Column::At.lt(to));
    }
    if let Some(cursor) = after {
        let (at, id) = keyset::read_time_cursor(cursor, CURSOR_TAG)?;
        query = query.filter(keyset::after(audit_event::Column::At, at, audit_event::Column::Id, id, true));
    }
    let events = query
        .order_by_desc(audit_event::Column::At)
        .order_by_desc(audit_event::Column::Id)
        .limit(keyset::fetch_size(first))
        .all(conn)
        .await?;
    let (events, next) = keyset::cut(events, first, |last| keyset::time_cursor(CURSOR_TAG, last.at, last.id));
    Ok(AuditPage { events, next })
}

/// The order audit cursors belong to.
const CURSOR_TAG: &str = "audit";

/// A stored field or purpose as the API names it: the audit trail keeps `national_id` and
/// `contact_for_match` (rows are never rewritten), and the API's enums say `NATIONAL_ID` and
/// `CONTACT_FOR_MATCH`. Every output of those columns goes through here.
#[must_use]
pub fn api_name(stored: &str) -> String {
    stored.to_ascii_uppercase()
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn every_action_has_its_own_spelling() {
        let spellings: std::collections::HashSet<&str> =
            AuditAction::ALL.iter().map(|action| action.as_str()).collect();
        assert_eq!(spellings.len(), AuditAction::ALL.len());
    }
}
