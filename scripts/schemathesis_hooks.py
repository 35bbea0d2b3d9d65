"""Hooks for fuzzing the registry's GraphQL contract with schemathesis (scripts/schemathesis.sh).

- `NaiveDate`: ISO dates, the form the schema's NaiveDate scalar reads.
- `registry_not_a_server_error`: the server-error check, judged by our error contract (README,
  "errors"). Every error carries `extensions.code`; the client codes answer the request (a
  refusal, a missing record, a conflict, a limit) and are fine whatever their `path`; an error
  with INTERNAL, SERVICE_UNAVAILABLE or no code at all, or any 5xx, is a server error. The
  built-in check knows only Apollo's client codes and calls NOT_FOUND or CONFLICT from a
  resolver a server error, so schemathesis.toml turns it off in favour of this one.
"""

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

schemathesis.graphql.scalar("NaiveDate", st.dates().map(lambda day: nodes.String(day.isoformat())))

CLIENT_CODES = frozenset(
    {
        "UNAUTHENTICATED",
        "FORBIDDEN",
        "NOT_FOUND",
        "BAD_USER_INPUT",
        "CONFLICT",
        "RATE_LIMITED",
        "BAD_REQUEST",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "METHOD_NOT_ALLOWED",
    }
)


@schemathesis.check
def registry_not_a_server_error(ctx, response, case):
    if response.status_code >= 500:
        raise AssertionError(f"HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise AssertionError("the response is not JSON") from exc
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code not in CLIENT_CODES:
            raise AssertionError(f"server error {code}: {error.get('message')}")
