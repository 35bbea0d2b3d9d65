//! What coordinators change on a record.

use async_graphql::InputObject;

use super::volunteer::{BloodGroup, HlaResolution};
use crate::domain::{NationalId, PersonName};
use crate::error::{AppError, AppResult};
use crate::service::volunteer::Correction;

/// Corrections to a record; fields left out stay as they are.
#[derive(Debug, InputObject)]
pub struct VolunteerCorrectionInput {
    pub name: Option<String>,
    /// A corrected ID number; its birth date and sex replace the old ones.
    pub national_id: Option<String>,
    pub city: Option<String>,
    pub blood_group: Option<BloodGroup>,
    pub occupation: Option<String>,
    /// Recording the typing makes a pending volunteer available.
    pub hla_resolution: Option<HlaResolution>,
}

impl VolunteerCorrectionInput {
    /// # Errors
    /// BAD_USER_INPUT on `input.name` or `input.nationalId`.
    pub fn parse(self) -> AppResult<Correction> {
        Ok(Correction {
            name: self.name.map(|name| PersonName::parse(&name)).transpose().map_err(AppError::field("input.name"))?,
            national_id: self
                .national_id
                .map(|id| NationalId::parse(&id))
                .transpose()
                .map_err(AppError::field("input.nationalId"))?,
            city: self.city,
            blood_group: self.blood_group.map(Into::into),
            occupation: self.occupation,
            hla_resolution: self.hla_resolution.map(Into::into),
        })
    }
}
