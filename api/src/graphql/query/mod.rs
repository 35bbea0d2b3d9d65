//! The query root, merged from one object per concern.

mod admission;
mod audit;
mod benefit;
mod branch;
mod case;
mod delivery;
mod development;
mod hospital;
mod letter;
mod retention;
mod volunteer;

use async_graphql::MergedObject;

#[derive(Debug, MergedObject, Default)]
pub struct Query(
    audit::AuditQuery,
    branch::BranchQuery,
    delivery::DeliveryQuery,
    development::DevelopmentQuery,
    hospital::HospitalQuery,
    retention::RetentionQuery,
    volunteer::VolunteerQuery,
    case::CaseQuery,
    admission::AdmissionQuery,
    benefit::BenefitQuery,
    letter::LetterQuery,
);
