//! The GraphQL-over-HTTP request parameters, from a JSON body or a query string, checked with
//! errors that say what is wrong with the request itself.

use serde_json::{Map, Value};

/// A request refused before GraphQL sees it: always 400 BAD_REQUEST.
#[derive(Debug)]
pub struct Malformed(pub String);

#[derive(Debug)]
pub struct Params {
    pub query: String,
    pub operation_name: Option<String>,
    pub variables: Option<Map<String, Value>>,
}

impl Params {
    pub fn from_json_body(body: &[u8]) -> Result<Self, Malformed> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Malformed("the request body is empty".into()));
        }
        let value: Value =
            serde_json::from_slice(body).map_err(|_| Malformed("the request body is not valid JSON".into()))?;
        match value {
            Value::Object(mut fields) => Self::from_fields(
                fields.remove("query"),
                fields.remove("operationName"),
                fields.remove("variables"),
                fields.get("extensions"),
            ),
            Value::Array(_) => {
                Err(Malformed("batched requests are not supported; send one operation per request".into()))
            }
            _ => Err(Malformed("the request body must be a JSON object".into())),
        }
    }

    /// GET parameters arrive as strings; `variables` and `extensions` are JSON inside them.
    pub fn from_query_string(raw: &str) -> Result<Self, Malformed> {
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(raw).map_err(|_| Malformed("the query string is malformed".into()))?;
        let take = |name: &str| pairs.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone());
        let json = |name: &str, text: Option<String>| {
            text.map(|text| {
                serde_json::from_str::<Value>(&text).map_err(|_| Malformed(format!("{name} is not valid JSON")))
            })
            .transpose()
        };
        let query = take("query").map(Value::String);
        let operation_name = take("operationName").map(Value::String);
        let variables = json("variables", take("variables"))?;
        let extensions = json("extensions", take("extensions"))?;
        Self::from_fields(query, operation_name, variables, extensions.as_ref())
    }

    fn from_fields(
        query: Option<Value>,
        operation_name: Option<Value>,
        variables: Option<Value>,
        extensions: Option<&Value>,
    ) -> Result<Self, Malformed> {
        let query = match query {
            Some(Value::String(query)) => query,
            None | Some(Value::Null) => return Err(Malformed("query is required".into())),
            Some(_) => return Err(Malformed("query must be a string".into())),
        };
        let operation_name = match operation_name {
            None | Some(Value::Null) => None,
            Some(Value::String(name)) => Some(name),
            Some(_) => return Err(Malformed("operationName must be a string or null".into())),
        };
        let variables = match variables {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => return Err(Malformed("variables must be an object or null".into())),
        };
        // Extensions are accepted and ignored: no protocol extension (such as persisted
        // queries) is supported yet.
        if !matches!(extensions, None | Some(Value::Null | Value::Object(_))) {
            return Err(Malformed("extensions must be an object or null".into()));
        }
        Ok(Self { query, operation_name, variables })
    }

    pub fn into_request(self) -> async_graphql::Request {
        let mut request = async_graphql::Request::new(self.query);
        if let Some(name) = self.operation_name {
            request = request.operation_name(name);
        }
        if let Some(variables) = self.variables {
            request = request.variables(async_graphql::Variables::from_json(Value::Object(variables)));
        }
        request
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_one_well_formed_request() {
        for (body, reason) in [
            ("", "the request body is empty"),
            ("{", "the request body is not valid JSON"),
            ("[{\"query\":\"{a}\"}]", "batched requests are not supported; send one operation per request"),
            ("\"{a}\"", "the request body must be a JSON object"),
            ("{}", "query is required"),
            ("{\"query\":1}", "query must be a string"),
            ("{\"query\":\"{a}\",\"operationName\":1}", "operationName must be a string or null"),
            ("{\"query\":\"{a}\",\"variables\":\"{}\"}", "variables must be an object or null"),
            ("{\"query\":\"{a}\",\"extensions\":[]}", "extensions must be an object or null"),
        ] {
            assert_eq!(Params::from_json_body(body.as_bytes()).unwrap_err().0, reason, "{body}");
        }
    }

    #[test]
    fn reads_get_parameters_with_json_variables() {
        let params = Params::from_query_string(
            "query=query+Q(%24c%3AString!)%7Bx%7D&variables=%7B%22c%22%3A%2251%22%7D&operationName=Q",
        )
        .unwrap();
        assert_eq!(params.query, "query Q($c:String!){x}");
        assert_eq!(params.operation_name.as_deref(), Some("Q"));
        assert_eq!(params.variables.unwrap()["c"], "51");
        assert_eq!(Params::from_query_string("variables=%7B").unwrap_err().0, "variables is not valid JSON");
    }
}
