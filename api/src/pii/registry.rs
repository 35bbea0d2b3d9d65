//! Where personal data lives: every sealed column, with the binding that ties a ciphertext to
//! its row, and every table that holds a volunteer's data, with what withdrawal and the data
//! export do with it.
//!
//! Writers and readers take their bindings from here ([`SealedColumn::at`]), key rotation
//! walks [`SEALED_COLUMNS`], withdrawal erases every table of [`VOLUNTEER_TABLES`], and the
//! data export has a section for each that is shown. `tests/tests/personal_data.rs` reads the
//! database's own schema: a binary column that is neither listed here nor a digest, or a table
//! with a `volunteer_id` that is missing here, fails it. A new table of personal data is one
//! line in this file.

use uuid::Uuid;

use super::Binding;

/// A column that holds personal data sealed with the field cipher.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedColumn {
    pub table: &'static str,
    pub column: &'static str,
}

impl SealedColumn {
    const fn new(table: &'static str, column: &'static str) -> Self {
        Self { table, column }
    }

    /// The binding of this column's value in row `row`: a ciphertext moved to another row or
    /// column does not open.
    #[must_use]
    pub const fn at(self, row: Uuid) -> Binding<'static> {
        Binding { table: self.table, column: self.column, row }
    }
}

pub const ADMISSION_REQUEST_CONTACT: SealedColumn = SealedColumn::new("admission_request", "contact");
pub const ADMISSION_REQUEST_NOTE: SealedColumn = SealedColumn::new("admission_request", "note");
pub const BACKUP_CONTACT_NAME: SealedColumn = SealedColumn::new("backup_contact", "name");
pub const BACKUP_CONTACT_PHONE: SealedColumn = SealedColumn::new("backup_contact", "phone");
pub const CASE_FOLLOW_UP_ANSWERS: SealedColumn = SealedColumn::new("case_follow_up", "answers");
pub const CASE_REQUEST_DETAIL: SealedColumn = SealedColumn::new("case_request", "detail");
pub const CASE_REQUEST_OUTCOME: SealedColumn = SealedColumn::new("case_request", "outcome");
pub const CASE_REQUEST_SESSION_ATTENDEES: SealedColumn = SealedColumn::new("case_request", "session_attendees");
pub const CONTACT_ATTEMPT_NOTE: SealedColumn = SealedColumn::new("contact_attempt", "note");
pub const DONATION_CASE_END_NOTE: SealedColumn = SealedColumn::new("donation_case", "end_note");
pub const ENTITLEMENT_CODE: SealedColumn = SealedColumn::new("entitlement", "code");
pub const ENTITLEMENT_HOLDER_NAME: SealedColumn = SealedColumn::new("entitlement", "holder_name");
pub const ENTITLEMENT_HOLDER_NATIONAL_ID: SealedColumn = SealedColumn::new("entitlement", "holder_national_id");
pub const ENTITLEMENT_REVOKE_REASON: SealedColumn = SealedColumn::new("entitlement", "revoke_reason");
pub const LEAVE_LETTER_FACTS: SealedColumn = SealedColumn::new("leave_letter", "facts");
pub const FAMILY_MEMBER_NAME: SealedColumn = SealedColumn::new("family_member", "name");
pub const FAMILY_MEMBER_PHONE: SealedColumn = SealedColumn::new("family_member", "phone");
pub const HOSPITAL_CONTACT: SealedColumn = SealedColumn::new("hospital", "contact");
pub const IDEMPOTENCY_KEY_ANSWER: SealedColumn = SealedColumn::new("idempotency_key", "answer");
pub const INBOUND_REPLY_BODY: SealedColumn = SealedColumn::new("inbound_reply", "body");
pub const INBOUND_REPLY_PHONE: SealedColumn = SealedColumn::new("inbound_reply", "phone");
pub const INBOX_NOTIFICATION_BODY: SealedColumn = SealedColumn::new("inbox_notification", "body");
pub const OUTBOUND_MESSAGE_RECIPIENT_PHONE: SealedColumn = SealedColumn::new("outbound_message", "recipient_phone");
pub const OUTBOUND_MESSAGE_VARIABLES: SealedColumn = SealedColumn::new("outbound_message", "variables");
pub const RECORD_RECOVERY_NEW_PHONE: SealedColumn = SealedColumn::new("record_recovery", "new_phone");
pub const STAFF_ACCOUNT_TOTP_SECRET: SealedColumn = SealedColumn::new("staff_account", "totp_secret");
pub const VOLUNTEER_EMPLOYER: SealedColumn = SealedColumn::new("volunteer", "employer");
pub const VOLUNTEER_NAME: SealedColumn = SealedColumn::new("volunteer", "name");
pub const VOLUNTEER_NATIONAL_ID: SealedColumn = SealedColumn::new("volunteer", "national_id");
pub const VOLUNTEER_PENDING_NAME: SealedColumn = SealedColumn::new("volunteer", "pending_name");
pub const VOLUNTEER_CONTACT_VALUE: SealedColumn = SealedColumn::new("volunteer_contact", "value");
pub const VOLUNTEER_STATUS_CHANGE_NOTE: SealedColumn = SealedColumn::new("volunteer_status_change", "note");
pub const WEBHOOK_ENDPOINT_SECRET: SealedColumn = SealedColumn::new("webhook_endpoint", "secret");
pub const WEBHOOK_ENDPOINT_PREVIOUS_SECRET: SealedColumn = SealedColumn::new("webhook_endpoint", "previous_secret");

/// Every sealed column, for key rotation and the schema test.
pub const SEALED_COLUMNS: &[SealedColumn] = &[
    ADMISSION_REQUEST_CONTACT,
    ADMISSION_REQUEST_NOTE,
    BACKUP_CONTACT_NAME,
    BACKUP_CONTACT_PHONE,
    CASE_FOLLOW_UP_ANSWERS,
    CASE_REQUEST_DETAIL,
    CASE_REQUEST_OUTCOME,
    CASE_REQUEST_SESSION_ATTENDEES,
    CONTACT_ATTEMPT_NOTE,
    DONATION_CASE_END_NOTE,
    ENTITLEMENT_CODE,
    ENTITLEMENT_HOLDER_NAME,
    ENTITLEMENT_HOLDER_NATIONAL_ID,
    ENTITLEMENT_REVOKE_REASON,
    FAMILY_MEMBER_NAME,
    FAMILY_MEMBER_PHONE,
    HOSPITAL_CONTACT,
    LEAVE_LETTER_FACTS,
    IDEMPOTENCY_KEY_ANSWER,
    INBOUND_REPLY_BODY,
    INBOUND_REPLY_PHONE,
    INBOX_NOTIFICATION_BODY,
    OUTBOUND_MESSAGE_RECIPIENT_PHONE,
    OUTBOUND_MESSAGE_VARIABLES,
    RECORD_RECOVERY_NEW_PHONE,
    STAFF_ACCOUNT_TOTP_SECRET,
    VOLUNTEER_EMPLOYER,
    VOLUNTEER_NAME,
    VOLUNTEER_NATIONAL_ID,
    VOLUNTEER_PENDING_NAME,
    VOLUNTEER_CONTACT_VALUE,
    VOLUNTEER_STATUS_CHANGE_NOTE,
    WEBHOOK_ENDPOINT_SECRET,
    WEBHOOK_ENDPOINT_PREVIOUS_SECRET,
];

/// What the volunteer's data export shows of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// A section of the export, by its key.
    Section(&'static str),
    /// Left out, and why: what it holds is shown elsewhere in the export, or is not about the
    /// volunteer as a person.
    Omitted(&'static str),
}

/// What withdrawal does to a volunteer's rows of a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Erase {
    /// The rows are deleted.
    Delete,
    /// The rows stay, naming no one: `volunteer_id` and these sealed columns are cleared. For
    /// records the registry counts (a donation case's stage, side and cause), which say nothing
    /// about who the volunteer was once unlinked.
    Unlink(&'static [SealedColumn]),
}

/// A table whose rows belong to one volunteer, through its `volunteer_id` column. Withdrawal
/// erases every row of every such table as `erase` says (none relies on a cascade it cannot
/// see), in this order (rows that may refer to others first), before the volunteer's own row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VolunteerTable {
    pub table: &'static str,
    pub export: Export,
    pub erase: Erase,
}

pub const VOLUNTEER_TABLES: &[VolunteerTable] = &[
    VolunteerTable {
        table: "leave_letter",
        export: Export::Omitted(
            "leave letters, which the donor lists and downloads in the app; their checks and download links name no \
             one and lose their letter with it",
        ),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "entitlement",
        export: Export::Omitted(
            "benefits of the donor and the relatives they named, which the donor reads in the app; a relative's \
             name and ID number are the relative's, not the volunteer's",
        ),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "benefit_grant",
        export: Export::Omitted("which rule versions a collection granted; the benefits themselves are in the app"),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "case_follow_up",
        export: Export::Omitted(
            "the check-ups and their answers, which the donor reads in the app's donation timeline",
        ),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "case_request",
        export: Export::Omitted("questions and family concerns raised on a donation case, shown in the app's timeline"),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "donation_case",
        export: Export::Omitted("the donation case, which the donor reads in the app's donation timeline"),
        erase: Erase::Unlink(&[DONATION_CASE_END_NOTE]),
    },
    VolunteerTable {
        table: "contact_attempt",
        export: Export::Omitted("staff's log of calls and messages to reach the volunteer"),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "record_recovery",
        export: Export::Omitted("recoveries of the record from a new phone; the phone itself is in the contacts"),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "staff_alert",
        export: Export::Omitted("the branch's alerts about the volunteer, for staff to act on"),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "campaign_recipient",
        export: Export::Omitted("which campaigns reached the volunteer; their answers are in the notifications"),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "lost_contact_entry",
        export: Export::Omitted("the branch's work queue, rebuilt daily from the record"),
        erase: Erase::Delete,
    },
    VolunteerTable { table: "inbox_notification", export: Export::Section("notifications"), erase: Erase::Delete },
    VolunteerTable {
        table: "outbound_message",
        export: Export::Omitted("messages sent to the volunteer: their texts are the notifications and the templates"),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "volunteer_status_change",
        export: Export::Omitted("the status itself is in `volunteer`; the history is the branch's working record"),
        erase: Erase::Delete,
    },
    VolunteerTable {
        table: "volunteer_name_prefix",
        export: Export::Omitted("keyed digests of the name's first characters, for search; nothing readable"),
        erase: Erase::Delete,
    },
    VolunteerTable { table: "family_member", export: Export::Section("family"), erase: Erase::Delete },
    VolunteerTable { table: "backup_contact", export: Export::Section("backupContacts"), erase: Erase::Delete },
    VolunteerTable { table: "volunteer_contact", export: Export::Section("contacts"), erase: Erase::Delete },
];

/// The export sections the registry promises, in order.
pub fn export_sections() -> impl Iterator<Item = &'static str> {
    VOLUNTEER_TABLES.iter().filter_map(|table| match table.export {
        Export::Section(key) => Some(key),
        Export::Omitted(_) => None,
    })
}
