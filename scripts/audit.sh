#!/usr/bin/env bash
# Runs the graphql-http audit suite against a freshly started server (development profile, a
# throw-away SQLite database). Fails on any MUST failure.
set -euo pipefail
cd "$(dirname "$0")/.."
audit="${GRAPHQL_HTTP_AUDIT:-../shared/tools/graphql-http-audit}"
if [ ! -x "$audit" ]; then
  if [ -n "${CI:-}" ]; then echo "audit tool not found at $audit" >&2; exit 1; fi
  echo "SKIPPED: graphql-http audit ($audit not found; set GRAPHQL_HTTP_AUDIT)"; exit 0
fi

cargo build --locked -q -p api --bin registry-api
data=$(mktemp -d)
log="${TEST_SERVICE_LOG_DIR:-$data}/audit-server.log"
REGISTRY_DATA_DIR="$data" REGISTRY_HTTP__ADDR=127.0.0.1:0 REGISTRY_LOG__FORMAT=json \
  target/debug/registry-api >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT

url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/graphql' "$log" | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "the service did not start" >&2; cat "$log" >&2; exit 1; }

"$audit" "$url"
