//! The query root, merged from one object per concern.

mod branch;

use async_graphql::MergedObject;

#[derive(Debug, MergedObject, Default)]
pub struct Query(branch::BranchQuery);
