//! A keyed blind index of one prefix of a volunteer's name (two to four characters), so that
//! staff can find "王芳…" without the names ever being stored or compared in clear.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "volunteer_name_prefix")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub prefix_index: Vec<u8>,
    #[sea_orm(primary_key, auto_increment = false)]
    pub volunteer_id: Uuid,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
