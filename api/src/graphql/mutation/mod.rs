//! The mutation root, merged from one object per concern.

mod admission;
mod benefit;
mod case;
mod hospital;
mod letter;
mod record;
mod recovery;
mod retention;
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
    record::RecordMutation,
    retention::RetentionMutation,
    self_service::SelfServiceMutation,
    recovery::RecoveryMutation,
    case::CaseMutation,
    admission::AdmissionMutation,
    benefit::BenefitMutation,
    letter::LetterMutation,
);
