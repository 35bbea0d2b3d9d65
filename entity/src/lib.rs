//! SeaORM entities of the marrow donor registry, one module per table.
//!
//! Entities are storage shapes only: the GraphQL types and the domain rules live in `api`,
//! so a column can change without the public contract noticing. Columns that hold personal
//! data are ciphertexts (`Vec<u8>`) written by `api::pii`, with a blind index beside them
//! where exact lookup is needed.

pub mod admission_request;
pub mod attrition_rollup;
pub mod audit_event;
pub mod backup_contact;
pub mod benefit_grant;
pub mod benefit_rule;
pub mod branch;
pub mod campaign;
pub mod campaign_recipient;
pub mod case_figures;
pub mod case_follow_up;
pub mod case_milestone;
pub mod case_request;
pub mod case_stage_deadline;
pub mod contact_attempt;
pub mod donation_case;
pub mod enrolment_ticket;
pub mod entitlement;
pub mod family_member;
pub mod hospital;
pub mod hospital_credential;
pub mod idempotency_key;
pub mod inbound_reply;
pub mod inbox_notification;
pub mod job;
pub mod job_lease;
pub mod leave_letter;
pub mod leave_letter_check;
pub mod letter_download;
pub mod lost_contact_entry;
pub mod message_template;
pub mod messaging_opt_out;
pub mod outbound_message;
pub mod rate_limit;
pub mod reconnection_count;
pub mod record_recovery;
pub mod redemption;
pub mod refresh_token;
pub mod sign_in_code;
pub mod staff_account;
pub mod staff_alert;
pub mod volunteer;
pub mod volunteer_contact;
pub mod volunteer_export;
pub mod volunteer_name_prefix;
pub mod volunteer_status_change;
pub mod volunteer_tombstone;
pub mod webhook_delivery;
pub mod webhook_endpoint;
pub mod webhook_event;
