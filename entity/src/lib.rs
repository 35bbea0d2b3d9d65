//! SeaORM entities of the marrow donor registry, one module per table.
//!
//! Entities are storage shapes only: the GraphQL types and the domain rules live in `api`,
//! so a column can change without the public contract noticing.

pub mod branch;
