use async_graphql::SimpleObject;

/// A provincial branch of the registry.
#[derive(Debug, SimpleObject)]
pub struct Branch {
    /// The two-digit GB/T 2260 province code, e.g. `51` for Sichuan.
    pub code: String,
    /// The Chinese name, e.g. 四川.
    pub name_zh: String,
    /// The English name, e.g. Sichuan.
    pub name_en: String,
}

impl From<entity::branch::Model> for Branch {
    fn from(model: entity::branch::Model) -> Self {
        Self { code: model.code, name_zh: model.name_zh, name_en: model.name_en }
    }
}
