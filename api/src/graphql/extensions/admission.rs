//! Rules a document must pass before it is validated or run: size, aliases, the role gate of
//! every root field (`graphql::access`), no mutation over GET (nor a query whose arguments are
//! personal data), and no introspection where it is off. async-graphql limits depth and cost, but not
//! aliases or size, and an alias costs nothing in its complexity count although each one runs
//! its resolver again. With introspection off, async-graphql answers `__schema` with a silent
//! null; refusing it says plainly that the published `schema.graphql` is the way in.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery, NextValidation};
use async_graphql::parser::types::{DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{ServerError, ValidationResult};
use async_graphql::{ServerResult, Variables};

use crate::error::{ErrorCode, server_error};
use crate::graphql::access::{admits, takes_personal_data};
use crate::service::Principal;

/// Request data marking a GET request, with the operation name it asked for.
/// GET must never run a mutation: a link or an image tag could otherwise change data.
#[derive(Clone, Debug, Default)]
pub struct HttpGet {
    pub operation_name: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Admission {
    pub max_chars: usize,
    pub max_aliases: usize,
    /// The cost limit. Checked here rather than by async-graphql's `limit_complexity`, whose
    /// refusal says neither the cost nor the limit, so a console developer cannot tell how far
    /// over they are.
    pub max_complexity: usize,
    pub introspection: bool,
}

impl ExtensionFactory for Admission {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Admission {
    /// The cost of a document: each field costs 1, and a paged list its page size (`first`)
    /// times its selection.
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.complexity > self.max_complexity {
            return Err(vec![server_error(
                ErrorCode::GraphqlValidationFailed,
                format!(
                    "the query costs {}, over the limit of {}; a list costs its page size (`first`) times its selection, so ask for smaller pages or fewer fields",
                    result.complexity, self.max_complexity
                ),
            )]);
        }
        Ok(result)
    }

    async fn parse_query(
        &self,
        ctx: &ExtensionContext<'_>,
        query: &str,
        variables: &Variables,
        next: NextParseQuery<'_>,
    ) -> ServerResult<ExecutableDocument> {
        // Counted before parsing, so an oversized document costs no parser work.
        if query.len() > self.max_chars && query.chars().count() > self.max_chars {
            return Err(server_error(
                ErrorCode::GraphqlValidationFailed,
                format!("the query is longer than {} characters", self.max_chars),
            ));
        }
        let document = next.run(ctx, query, variables).await.map_err(|mut err| {
            crate::error::ensure_code(&mut err, ErrorCode::GraphqlParseFailed);
            err
        })?;
        let aliases = count_aliases(&document);
        if aliases > self.max_aliases {
            return Err(server_error(
                ErrorCode::GraphqlValidationFailed,
                format!("the query uses {aliases} aliases; at most {} are allowed", self.max_aliases),
            ));
        }
        if !self.introspection && introspects(&document) {
            return Err(server_error(
                ErrorCode::GraphqlValidationFailed,
                "introspection is disabled; use the published schema.graphql",
            ));
        }
        let caller = ctx.data_opt::<Principal>().cloned().unwrap_or_default();
        if let Some((_, field)) = root_fields(&document)
            .into_iter()
            .find(|(operation, field)| admits(*operation, field, &caller) == Some(false))
        {
            let code = caller.refusal().code();
            let message = if code == ErrorCode::Unauthenticated {
                "sign in to call it"
            } else {
                "you are not allowed to call it"
            };
            let mut refusal = server_error(code, format!("{field}: {message}"));
            let extensions = refusal.extensions.get_or_insert_with(Default::default);
            extensions.set("field", field.to_owned());
            if code == ErrorCode::Forbidden {
                extensions.set("reason", crate::error::FORBIDDEN_BY_ROLE);
            }
            return Err(refusal);
        }
        if let Some(get) = ctx.data_opt::<HttpGet>()
            && selected_operation(&document, get.operation_name.as_deref()) != Some(OperationType::Query)
        {
            return Err(server_error(
                ErrorCode::MethodNotAllowed,
                "only queries may be sent with GET; send mutations with POST",
            ));
        }
        if ctx.data_opt::<HttpGet>().is_some()
            && let Some((_, field)) = root_fields(&document).into_iter().find(|(_, field)| takes_personal_data(field))
        {
            return Err(server_error(
                ErrorCode::MethodNotAllowed,
                format!("{field}: its arguments are personal data, which must not travel in a URL; send it with POST"),
            ));
        }
        Ok(document)
    }
}

fn root_selections(document: &ExecutableDocument) -> Vec<(OperationType, &SelectionSet)> {
    match &document.operations {
        DocumentOperations::Single(op) => vec![(op.node.ty, &op.node.selection_set.node)],
        DocumentOperations::Multiple(ops) => ops.values().map(|op| (op.node.ty, &op.node.selection_set.node)).collect(),
    }
}

/// The root fields of every operation, through fragments.
fn root_fields(document: &ExecutableDocument) -> Vec<(OperationType, &str)> {
    fn collect<'a>(
        ty: OperationType,
        set: &'a SelectionSet,
        document: &'a ExecutableDocument,
        depth: usize,
        out: &mut Vec<(OperationType, &'a str)>,
    ) {
        if depth >= 16 {
            return;
        }
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => out.push((ty, field.node.name.node.as_str())),
                Selection::InlineFragment(fragment) => {
                    collect(ty, &fragment.node.selection_set.node, document, depth + 1, out);
                }
                Selection::FragmentSpread(spread) => {
                    if let Some(fragment) = document.fragments.get(&spread.node.fragment_name.node) {
                        collect(ty, &fragment.node.selection_set.node, document, depth + 1, out);
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (ty, set) in root_selections(document) {
        collect(ty, set, document, 0, &mut out);
    }
    out
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    let fragments = document.fragments.values().map(|fragment| &fragment.node.selection_set.node);
    root_selections(document).into_iter().map(|(_, set)| set).chain(fragments).map(aliases_in).sum()
}

/// Whether any operation asks for `__schema` or `__type` at its root, directly or through
/// fragments. (`__typename` is not introspection of the schema and stays allowed.)
fn introspects(document: &ExecutableDocument) -> bool {
    root_fields(document).iter().any(|(_, name)| matches!(*name, "__schema" | "__type"))
}

fn aliases_in(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(field) => {
                usize::from(field.node.alias.is_some()) + aliases_in(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => aliases_in(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => 0,
        })
        .sum()
}

/// The operation a request will run, by GraphQL's rules; `None` if the name does not select one
/// (execution then fails on its own, before anything runs).
fn selected_operation(document: &ExecutableDocument, name: Option<&str>) -> Option<OperationType> {
    match (&document.operations, name) {
        (DocumentOperations::Single(op), _) => Some(op.node.ty),
        (DocumentOperations::Multiple(ops), Some(name)) => ops.get(name).map(|op| op.node.ty),
        (DocumentOperations::Multiple(ops), None) if ops.len() == 1 => ops.values().next().map(|op| op.node.ty),
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap()
    }

    #[test]
    fn counts_aliases_in_operations_fragments_and_nested_fields() {
        let doc = parse("query { a: x { b: y } ...F ... on Q { c: z } } fragment F on Q { d: w }");
        assert_eq!(count_aliases(&doc), 4);
    }

    #[test]
    fn finds_introspection_at_the_root_even_through_fragments() {
        assert!(introspects(&parse("{ __schema { types { name } } }")));
        assert!(introspects(&parse("{ ...F } fragment F on Query { __type(name: \"Q\") { name } }")));
        assert!(!introspects(&parse("{ __typename branches { code } }")));
    }

    #[test]
    fn selects_the_named_or_only_operation() {
        let doc = parse("query A { x } mutation B { y }");
        assert_eq!(selected_operation(&doc, Some("A")), Some(OperationType::Query));
        assert_eq!(selected_operation(&doc, Some("B")), Some(OperationType::Mutation));
        assert_eq!(selected_operation(&doc, None), None);
        assert_eq!(selected_operation(&parse("mutation { y }"), None), Some(OperationType::Mutation));
    }
}
