//! The mutation root, merged from one object per concern.

mod hospital;
mod staff;

use async_graphql::MergedObject;

#[derive(Debug, MergedObject, Default)]
pub struct Mutation(staff::StaffMutation, hospital::HospitalMutation);
