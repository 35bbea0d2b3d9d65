use async_graphql::{ID, SimpleObject};
use chrono::{DateTime, Utc};

use crate::service;

/// A partner hospital's registration.
#[derive(Debug, SimpleObject)]
pub struct Hospital {
    pub id: ID,
    pub name: String,
    /// The branch the hospital works with (GB/T 2260 code).
    pub branch_code: String,
    /// The contact person, masked: `张**`.
    pub contact_name: String,
    /// The contact phone, masked: `138****0001`.
    pub contact_phone: String,
}

impl From<service::HospitalView> for Hospital {
    fn from(view: service::HospitalView) -> Self {
        Self {
            id: ID(view.id.to_string()),
            name: view.name,
            branch_code: view.branch_code,
            contact_name: view.contact_name_masked,
            contact_phone: view.contact_phone_masked,
        }
    }
}

/// Client credentials, shown this once: store the secret in the hospital's own secret store.
#[derive(Debug, SimpleObject)]
pub struct HospitalCredentials {
    pub client_id: String,
    pub client_secret: String,
    /// When the credentials these replace stop working, if there were any.
    pub previous_valid_until: Option<DateTime<Utc>>,
}

impl From<service::IssuedCredentials> for HospitalCredentials {
    fn from(issued: service::IssuedCredentials) -> Self {
        Self {
            client_id: issued.client_id,
            client_secret: issued.client_secret,
            previous_valid_until: issued.previous_valid_until,
        }
    }
}

/// An access token for a hospital's system.
#[derive(Debug, SimpleObject)]
pub struct HospitalAccess {
    /// Send as `Authorization: Bearer <accessToken>`.
    pub access_token: String,
    pub expires_in: i64,
}
