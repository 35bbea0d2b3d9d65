//! A provincial branch of the registry, keyed by its GB/T 2260 province code.

use sea_orm::entity::prelude::*;

/// The branch's code is its primary key: it is a national standard that never changes, and every
/// later table (volunteers, staff, hospitals, benefit rules) is scoped by it.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "branch")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    /// The SMS sign name, shown as 【…】 at the head of every SMS.
    pub sms_sign_name: Option<String>,
    /// The branch's offset from UTC; every mainland branch keeps Beijing time (+480).
    pub utc_offset_minutes: i32,
    /// Quiet hours for non-essential SMS, in minutes after local midnight.
    pub quiet_hours_start: i32,
    pub quiet_hours_end: i32,
    /// Most non-essential SMS one phone gets per local day.
    pub daily_non_essential_cap: i32,
    /// Days after enrolment in which a withdrawal purges the record completely.
    pub cooling_off_days: i32,
    /// How long a confirmation stays fresh before the app prompts a check-up.
    pub confirm_interval_months: i32,
    /// The longest pause a volunteer may set in the app.
    pub max_pause_days: i32,
    /// Days after a pause's end before an unconfirmed volunteer becomes TU/UC.
    pub pause_grace_days: i32,
    /// How long a pause answered by SMS ("2" to a recommitment message) lasts.
    pub reply_pause_days: i32,
    /// A confirmation older than this puts the volunteer in the lost-contact work queue.
    pub stale_contact_days: i32,
    /// Failed attempts to reach a volunteer, within the window below, before staff may mark
    /// them lost (TU/UC).
    pub lost_after_attempts: i32,
    pub lost_attempt_window_days: i32,
    /// How long a campaign waits for answers before its silent recipients count as non-responders.
    pub campaign_response_days: i32,
    /// Failed attempts to reach a matched donor before the coordinator may end the case UC.
    pub case_failed_attempts: i32,
    /// How long a donor stays TU/TX after collection.
    pub donation_rest_days: i32,
    /// How long a partner hospital has to answer an admission request, by default.
    pub admission_answer_hours: i32,
    /// Leave letters: the fewest and most G-CSF injection days before a PBSC collection…
    pub letter_gcsf_days_min: i32,
    pub letter_gcsf_days_max: i32,
    /// …the most collection days, and the most rest days after collection.
    pub letter_collection_days_max: i32,
    pub letter_rest_days_max: i32,
    /// The contact printed under the branch's letterhead.
    pub letter_contact: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
