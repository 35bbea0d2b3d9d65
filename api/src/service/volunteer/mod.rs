//! Volunteers: their records, signing in, enrolling, and the self-service of the mobile app
//! (contacts, availability, the notification list, profile corrections, family, privacy).

mod attempts;
mod availability;
mod codes;
mod contacts;
mod corrections;
mod enrolment;
mod family;
mod inbox;
mod privacy;
mod profile;
mod reconnect;
mod records;
mod sign_in;
mod status;

pub use attempts::{AttemptView, ContactAttemptService, NewAttempt, checked_note};
pub use availability::{
    AvailabilityRun, AvailabilityService, PAUSE_REMINDER_DAYS, PauseTask, WithdrawalNotice, Withdrawn,
};
pub(crate) use availability::{OWN_REASONS, returning_status};
pub use codes::CodeSent;
pub(crate) use codes::Codes;
pub(crate) use contacts::backup_contact_row;
pub use contacts::{BackupContactView, ContactService, ContactView, NewBackupContact, TypedContact, check_backup_list};
pub use corrections::{Correction, CorrectionService, StaffStatus};
pub use enrolment::{Enrolment, EnrolmentService};
pub use family::{FamilyMemberView, FamilyService, InfoPack, NewFamilyMember};
pub use inbox::{InboxService, NotificationPage, NotificationView, Preferences};
pub use privacy::{DataAccess, PrivacyService};
pub use profile::{ProfileChanges, ProfileService};
pub use reconnect::{DestinationKind, PhoneSource, RecoveryDestination, RecoveryOffer, RecoveryService};
pub use records::{NewVolunteer, PersonalField, UnmaskPurpose, VolunteerService, VolunteerView};
pub(crate) use records::{
    age_on, current_contact, index_name_prefixes, name_index, name_prefix_index, rows_of, with_working_phone,
};
pub use sign_in::{SignedIn, VolunteerSignIn};
pub use status::{Change as StatusChange, StatusChangeView, StatusLog};

/// Rows of many volunteers, grouped by volunteer in the order they came, each made a view: what
/// every batched read of a relation (one statement for a page of volunteers) ends with.
pub(crate) fn grouped<R, T>(
    rows: Vec<R>,
    volunteer: impl Fn(&R) -> uuid::Uuid,
    mut view: impl FnMut(R) -> crate::error::AppResult<T>,
) -> crate::error::AppResult<std::collections::HashMap<uuid::Uuid, Vec<T>>> {
    let mut groups: std::collections::HashMap<uuid::Uuid, Vec<T>> = std::collections::HashMap::new();
    for row in rows {
        let id = volunteer(&row);
        groups.entry(id).or_default().push(view(row)?);
    }
    Ok(groups)
}
