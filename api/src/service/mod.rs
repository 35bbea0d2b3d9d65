//! Use cases. Each service takes the acting [`Principal`] and checked input, owns the rules,
//! and returns domain values or an [`AppError`](crate::error::AppError). Transports (GraphQL,
//! HTTP) call services; services never know which transport called them.

pub mod audit;
mod branches;
pub mod deliveries;
pub mod development;
mod hospitals;
mod principal;
mod second_factor;
mod staff;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use branches::BranchService;
pub use hospitals::{HospitalService, HospitalView, IssuedCredentials, NewHospital};
pub use principal::{NationalAdmin, Principal, StaffRole};
pub use staff::{CreatedStaff, NewStaff, Session, StaffService};

use crate::auth::Tokens;
use crate::messaging::Messaging;
use crate::pii::KeyRing;

/// Every service, built once at start-up and shared by all requests.
#[derive(Clone, Debug)]
pub struct Services {
    db: DatabaseConnection,
    pub branches: BranchService,
    pub staff: StaffService,
    pub hospitals: HospitalService,
    /// The outbox and its delivery, which every service that messages a volunteer uses.
    pub messaging: Messaging,
    /// Personal-data keys, for the services of later tables.
    pub keys: Arc<KeyRing>,
}

impl Services {
    /// The connection, for the services that are plain functions over it (the audit trail).
    #[must_use]
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    #[must_use]
    pub fn new(db: DatabaseConnection, keys: Arc<KeyRing>, tokens: Arc<Tokens>, messaging: Messaging) -> Self {
        Self {
            branches: BranchService::new(db.clone()),
            staff: StaffService::new(db.clone(), Arc::clone(&tokens), Arc::clone(&keys)),
            hospitals: HospitalService::new(db.clone(), tokens, Arc::clone(&keys)),
            db,
            messaging,
            keys,
        }
    }
}

/// The id of the request a service call serves, for the audit trail.
#[derive(Clone, Debug, Default)]
pub struct RequestId(pub Option<String>);

impl RequestId {
    #[must_use]
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}
