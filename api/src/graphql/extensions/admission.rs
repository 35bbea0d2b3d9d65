//! Rules a document must pass before it is validated or run: size, aliases, and no mutation
//! over GET. async-graphql limits depth and cost, but not aliases or size, and an alias costs
//! nothing in its complexity count although each one runs its resolver again.

use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextParseQuery};
use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};
use async_graphql::{ServerResult, Variables};

use crate::error::{ErrorCode, server_error};

/// Request data marking a GET request, with the operation name it asked for.
/// GET must never run a mutation: a link or an image tag could otherwise change data.
#[derive(Clone, Debug, Default)]
pub struct HttpGet {
    pub operation_name: Option<String>,
}

#[derive(Debug)]
pub struct Admission {
    max_chars: usize,
    max_aliases: usize,
}

impl Admission {
    #[must_use]
    pub fn new(max_chars: usize, max_aliases: usize) -> Self {
        Self { max_chars, max_aliases }
    }
}

impl ExtensionFactory for Admission {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(Self {
            max_chars: self.max_chars,
            max_aliases: self.max_aliases,
        })
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Admission {
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
        if let Some(get) = ctx.data_opt::<HttpGet>()
            && selected_operation(&document, get.operation_name.as_deref()) != Some(OperationType::Query)
        {
            return Err(server_error(
                ErrorCode::MethodNotAllowed,
                "only queries may be sent with GET; send mutations with POST",
            ));
        }
        Ok(document)
    }
}

fn count_aliases(document: &ExecutableDocument) -> usize {
    let operations: Vec<&SelectionSet> = match &document.operations {
        DocumentOperations::Single(op) => vec![&op.node.selection_set.node],
        DocumentOperations::Multiple(ops) => ops.values().map(|op| &op.node.selection_set.node).collect(),
    };
    let fragments = document.fragments.values().map(|fragment| &fragment.node.selection_set.node);
    operations.into_iter().chain(fragments).map(aliases_in).sum()
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
    fn selects_the_named_or_only_operation() {
        let doc = parse("query A { x } mutation B { y }");
        assert_eq!(selected_operation(&doc, Some("A")), Some(OperationType::Query));
        assert_eq!(selected_operation(&doc, Some("B")), Some(OperationType::Mutation));
        assert_eq!(selected_operation(&doc, None), None);
        assert_eq!(selected_operation(&parse("mutation { y }"), None), Some(OperationType::Mutation));
    }
}
