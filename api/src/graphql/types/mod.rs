//! GraphQL output types. They are built from service results, never derived on entities,
//! so the contract changes only when this module does.

mod admission;
mod audit;
mod benefit;
mod branch;
mod campaign;
mod case;
mod contact;
mod delivery;
mod development;
mod family;
mod hospital;
mod letter;
mod page;
mod record;
mod recovery;
mod retention;
mod search;
mod self_service;
mod staff;
mod volunteer;

pub use admission::{
    AcceptAdmissionInput, AdmissionRequest, AdmissionStatus, CancelAdmissionInput, DeclineAdmissionInput,
    HospitalScore, RequestAdmissionInput, RescheduleAdmissionInput, WebhookDelivery, WebhookEndpoint, WebhookSecret,
};
pub use audit::AuditEventPage;
pub use benefit::{
    BenefitRule, BenefitRuleInput, Entitlement, EntitlementCheck, MyBenefits, NameBeneficiaryInput,
    RedeemEntitlementInput, Redemption,
};
pub use branch::Branch;
pub use campaign::{Campaign, CampaignInput, CampaignPage};
pub use case::{
    CaseFile, CaseFilterInput, CaseRequest, CaseRequestKind, CaseStepInput, CheckUp, CheckUpAnswersInput, DonationCase,
    EndCaseInput, FamilySessionInput, MyDonation, OpenCaseInput, PlanCaseDatesInput, RequestedCase,
};
pub use contact::{BackupContactInput, ContactAttempt, ContactAttemptInput, ContactKind, PhoneKind, TypedContactKind};
pub use delivery::{CampaignDelivery, MessageDelivery};
pub use development::DevelopmentSms;
pub use family::{DataAccess, FamilyMember, FamilyMemberInput, InfoPackChannel, StaffAlert, Stance};
pub use hospital::{Hospital, HospitalAccess, HospitalCredentials};
pub use letter::{LeaveLetter, LeaveLetterInput, LetterCheck, LetterDownload};
pub use page::Page;
pub use record::VolunteerCorrectionInput;
pub use recovery::{RecordedPhoneInput, RecoveryOffer};
pub use retention::{AttritionMonth, ExportFile, LostContactPage, VolunteerExport};
pub use search::{VolunteerConnection, VolunteerFilterInput, VolunteerOrder, connection as volunteer_connection};
pub use self_service::{
    EnrolmentInput, NotificationPage, NotificationPreferences, PauseReason, ProfileInput, Withdrawal, WithdrawalCause,
    WithdrawalNotice,
};
pub use staff::{CreatedStaffAccount, Session, StaffRole};
pub use volunteer::{
    DonorStatus, PersonalField, SignInCodeSent, StatusReason, UnmaskPurpose, Volunteer, VolunteerSignIn,
};
