//! The registry's vocabulary as types, with the rules that make a value valid.
//!
//! Nothing here knows about SeaORM or GraphQL: a value that exists is valid, and every refusal
//! is an [`Invalid`] that says which rule failed without repeating the value, so it can reach a
//! client or a log safely. The service layer attaches the field name.

/// Declares a closed list stored by name, with `as_str`, `parse` and `ALL`.
macro_rules! stored_names {
    ($(#[$meta:meta])* $name:ident { $($(#[$variant_meta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$variant_meta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }

            #[must_use]
            pub fn parse(stored: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|value| value.as_str() == stored)
            }
        }
    };
}

pub mod admission;
pub mod benefit;
pub mod calendar;
pub mod checked_code;
pub mod contact;
pub mod donation;
pub mod letter;
pub mod messaging;
mod national_id;
mod person_name;
mod phone;
mod vocabulary;

pub use national_id::{NationalId, Sex};
pub use person_name::PersonName;
pub use phone::Phone;
pub use vocabulary::{
    Abo, AttemptChannel, AttemptOutcome, BloodGroup, PauseReason, Relationship, Rh, Stance, WithdrawalCause,
};

/// Checks the form of a branch key, a GB/T 2260 province code: two digits. Whether the branch
/// exists is the database's to say.
///
/// # Errors
/// [`Invalid`] for anything else.
pub fn check_branch_code(code: &str) -> Result<(), Invalid> {
    if code.len() == 2 && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Invalid("must be a two-digit GB/T 2260 province code"))
    }
}

/// Why a value was refused. Never contains the value itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);
