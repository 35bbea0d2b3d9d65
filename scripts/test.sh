#!/usr/bin/env bash
# The whole test suite: formatting, lints, the GraphQL-over-HTTP audit against a running
# server, and every test on SQLite and PostgreSQL. `.ci/run` calls this.
#
# PostgreSQL: TEST_DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/.."
export TEST_DATABASE_ADMIN_URL="${TEST_DATABASE_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

step() { printf '\n==> %s\n' "$*"; }

# The service's logs of the whole run, for the no-plaintext check at the end.
export TEST_SERVICE_LOG_DIR="$PWD/target/test-logs"
rm -rf "$TEST_SERVICE_LOG_DIR"
mkdir -p "$TEST_SERVICE_LOG_DIR"

# What the leave-letter tests run from Debian: poppler's pdftotext and pdftoppm, zbar's zbarimg,
# Chromium, and a Chinese font Chromium draws with (the one the service ships for its PDFs).
# Installed when missing, so that these tests never skip.
step "Debian packages for the letter tests"
missing=()
command -v pdftotext >/dev/null || missing+=(poppler-utils)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v chromium >/dev/null || missing+=(chromium)
command -v fc-list >/dev/null || missing+=(fontconfig)
[ -e /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ] || missing+=(fonts-wqy-microhei)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}"
  sudo_=""
  [ "$(id -u)" -eq 0 ] || sudo_="sudo"
  $sudo_ apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive $sudo_ apt-get install -y -qq "${missing[@]}"
else
  echo "all present"
fi

step "formatting"
cargo fmt --all -- --check

step "clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "typed clients: graphql-codegen from schema.graphql and contract/, then tsc --strict"
(
  cd contract
  npm ci --no-audit --no-fund --loglevel=error
  npx --no-install graphql-codegen --config codegen.yml --silent
  npm run -s check
)

step "graphql-http audit"
scripts/audit.sh

step "tests on SQLite and PostgreSQL (includes the schema drift check)"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked 2>&1 | tee "$log"

step "no personal data in clear in the service's logs"
scripts/check-logs.sh "$TEST_SERVICE_LOG_DIR"
# One closing line for the whole suite, summed over every test binary.
awk '/^test result:/ { passed += $4; failed += $6; ignored += $8 }
     END { printf "\n%d passed, %d failed, %d skipped\n", passed, failed, ignored }' "$log"
