//! Volunteers: their records, signing in, enrolling, and the self-service of the mobile app
//! (contacts, availability, the notification list, profile corrections, family, privacy).

mod attempts;
mod availability;
mod codes;
mod contacts;
mod enrolment;
mod family;
mod inbox;
mod privacy;
mod profile;
mod recommitment;
mod records;
mod sign_in;

pub use attempts::{AttemptView, ContactAttemptService, NewAttempt};
pub use availability::{AvailabilityRun, AvailabilityService, PAUSE_REMINDER_DAYS, WithdrawalNotice, Withdrawn};
pub use codes::CodeSent;
pub(crate) use codes::Codes;
pub use contacts::{BackupContactView, ContactService, ContactView, NewBackupContact, TypedContact, check_backup_list};
pub use enrolment::{Enrolment, EnrolmentService};
pub use family::{FamilyMemberView, FamilyService, InfoPack, NewFamilyMember};
pub use inbox::{InboxService, NotificationPage, NotificationView, Preferences};
pub use privacy::{DataAccess, PrivacyService};
pub use profile::{ProfileChanges, ProfileService};
pub use recommitment::{RESPONSE_WINDOW_DAYS, RecommitmentReply};
pub use records::{Lookup, NewVolunteer, PersonalField, UnmaskPurpose, VolunteerService, VolunteerView};
pub use sign_in::{SignedIn, VolunteerSignIn};
