//! Personal data at rest: the field cipher, the blind index, and the keys behind them.
//!
//! Every table that stores an ID number, a phone or another identifying value stores it as a
//! [`FieldCipher`] ciphertext bound to its table, column and row, plus a [`BlindIndex`] digest
//! when the value must be found by exact match. A stolen copy of the database then holds
//! neither the values nor anything that can be matched against a list of known numbers.

mod blind_index;
mod cipher;
mod keys;
pub mod registry;
pub mod rotation;

pub use blind_index::BlindIndex;
pub use cipher::{Binding, CipherError, FieldCipher};
pub use keys::{KeyOrigin, KeyRing, TokenSeed};
