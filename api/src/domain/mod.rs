//! The registry's vocabulary as types, with the rules that make a value valid.
//!
//! Nothing here knows about SeaORM or GraphQL: a value that exists is valid, and every refusal
//! is an [`Invalid`] that says which rule failed without repeating the value, so it can reach a
//! client or a log safely. The service layer attaches the field name.

pub mod messaging;
mod national_id;
mod phone;

pub use national_id::{NationalId, Sex};
pub use phone::Phone;

/// Why a value was refused. Never contains the value itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);
