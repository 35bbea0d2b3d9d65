//! The registry's provincial branches: reference data every other record is scoped by.

use entity::branch;
use sea_orm::{DatabaseConnection, EntityTrait, QueryOrder};

use crate::domain::check_branch_code;
use crate::error::{AppError, AppResult};

#[derive(Clone, Debug)]
pub struct BranchService {
    db: DatabaseConnection,
}

impl BranchService {
    #[must_use]
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// All branches in code order. Public: the app shows them at enrolment.
    pub async fn list(&self) -> AppResult<Vec<branch::Model>> {
        Ok(branch::Entity::find().order_by_asc(branch::Column::Code).all(&self.db).await?)
    }

    /// One branch by its GB/T 2260 code, or `None`.
    pub async fn find(&self, code: &str) -> AppResult<Option<branch::Model>> {
        check_branch_code(code).map_err(AppError::field("code"))?;
        Ok(branch::Entity::find_by_id(code.to_owned()).one(&self.db).await?)
    }
}
