//! The mutation root, merged from one object per concern.

mod hospital;
mod self_service;
mod session;
mod staff;
mod volunteer;

use async_graphql::MergedObject;

#[derive(Debug, MergedObject, Default)]
pub struct Mutation(
    session::SessionMutation,
    staff::StaffMutation,
    hospital::HospitalMutation,
    volunteer::VolunteerMutation,
    self_service::SelfServiceMutation,
);
