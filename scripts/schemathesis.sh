#!/usr/bin/env bash
# Fuzzes the contract (schema.graphql) with schemathesis against a fresh development server,
# once per kind of caller: a volunteer, a national administrator, a branch recruiter, a
# partner hospital and an anonymous caller. Any failure fails the script.
#
#   SCHEMATHESIS=/path/to/schemathesis MAX_EXAMPLES=50 scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
st="${SCHEMATHESIS:-schemathesis}"
export SCHEMATHESIS_HOOKS="$PWD/scripts/schemathesis_hooks.py"
examples="${MAX_EXAMPLES:-50}"
password="correct horse battery staple"

cargo build --locked -q -p api --bin registry-api --bin registry-admin
data=$(mktemp -d)
export REGISTRY_DATA_DIR="$data"
target/debug/registry-admin seed-volunteers 20 51 2>/dev/null
totp_uri=$(REGISTRY_BOOTSTRAP_PASSWORD="$password" target/debug/registry-admin bootstrap-national-admin admin 2>/dev/null)

log="$data/service.log"
REGISTRY_HTTP__ADDR=127.0.0.1:0 REGISTRY_LOG__FORMAT=json target/debug/registry-api >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
url=""
for _ in $(seq 1 100); do
  url=$(grep -o 'http://127.0.0.1:[0-9]*/graphql' "$log" | head -n 1 || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { echo "the service did not start" >&2; exit 1; }

# gql TOKEN QUERY VARIABLES-JSON: the response body.
gql() {
  local auth=()
  [ -n "$1" ] && auth=(-H "authorization: Bearer $1")
  curl -sf "$url" -H 'content-type: application/json' "${auth[@]}" \
    -d "$(jq -n --arg q "$2" --argjson v "$3" '{query: $q, variables: $v}')"
}

# The current TOTP code of an otpauth:// URI (RFC 6238, SHA-1, 6 digits, 30 s).
totp() {
  python3 - "$1" <<'PY'
import base64, hmac, struct, sys, time, urllib.parse
secret = urllib.parse.parse_qs(urllib.parse.urlparse(sys.argv[1]).query)["secret"][0]
key = base64.b32decode(secret + "=" * (-len(secret) % 8))
digest = hmac.new(key, struct.pack(">Q", int(time.time()) // 30), "sha1").digest()
offset = digest[-1] & 15
print("%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000))
PY
}

# A volunteer: the first synthetic one signs in with the code the development gateway kept.
phone="+8613700000001"
gql "" 'mutation($p: String!) { requestSignInCode(phone: $p) { expiresIn } }' "{\"p\": \"$phone\"}" >/dev/null
code=""
for _ in $(seq 1 50); do
  code=$(gql "" 'query($p: String!) { developmentSms(phone: $p, last: 1) { text } }' "{\"p\": \"$phone\"}" |
    jq -r '.data.developmentSms[0].text // empty' | grep -o '[0-9]\{6\}' | head -n 1 || true)
  [ -n "$code" ] && break
  sleep 0.2
done
[ -n "$code" ] || { echo "no sign-in code reached the development gateway" >&2; exit 1; }
volunteer=$(gql "" 'mutation($p: String!, $c: String!) { signInWithCode(phone: $p, code: $c) { session { accessToken } } }' \
  "{\"p\": \"$phone\", \"c\": \"$code\"}" | jq -r '.data.signInWithCode.session.accessToken')

admin=$(gql "" 'mutation($u: String!, $p: String!, $c: String) { staffSignIn(username: $u, password: $p, totpCode: $c) { accessToken } }' \
  "$(jq -n --arg p "$password" --arg c "$(totp "$totp_uri")" '{u: "admin", p: $p, c: $c}')" | jq -r '.data.staffSignIn.accessToken')

gql "$admin" 'mutation($i: CreateStaffAccountInput!) { createStaffAccount(input: $i) { id } }' \
  "$(jq -n --arg p "$password" '{i: {username: "recruiter51", password: $p, role: "BRANCH_RECRUITER", branchCode: "51"}}')" >/dev/null
recruiter=$(gql "" 'mutation($u: String!, $p: String!) { staffSignIn(username: $u, password: $p) { accessToken } }' \
  "$(jq -n --arg p "$password" '{u: "recruiter51", p: $p}')" | jq -r '.data.staffSignIn.accessToken')

hospital_id=$(gql "$admin" 'mutation($i: RegisterHospitalInput!) { registerHospital(input: $i) { id } }' \
  '{"i": {"name": "四川大学华西医院", "branchCode": "51", "contactName": "张医生", "contactPhone": "13800000009"}}' |
  jq -r '.data.registerHospital.id')
credentials=$(gql "$admin" 'mutation($h: ID!) { issueHospitalCredentials(hospitalId: $h) { clientId clientSecret } }' \
  "{\"h\": \"$hospital_id\"}" | jq -c '.data.issueHospitalCredentials')
hospital=$(gql "" 'mutation($c: String!, $s: String!) { hospitalToken(clientId: $c, clientSecret: $s) { accessToken } }' \
  "$(jq -n --argjson k "$credentials" '{c: $k.clientId, s: $k.clientSecret}')" | jq -r '.data.hospitalToken.accessToken')

for caller in volunteer admin recruiter hospital anonymous; do
  token="${!caller:-}"
  if [ "$caller" != anonymous ] && { [ -z "$token" ] || [ "$token" = null ]; }; then
    echo "could not get a $caller token" >&2; exit 1
  fi
  auth=()
  if [ "$caller" != anonymous ]; then
    auth=(-H "Authorization: Bearer $token")
    # The token must be accepted, or every fuzzed request would only test the 401.
    [ "$(gql "$token" '{ __typename }' '{}' | jq -r '.data.__typename')" = Query ] ||
      { echo "the $caller token was refused" >&2; exit 1; }
  fi
  printf '\n==> schemathesis as %s\n' "$caller"
  status=0
  "$st" run schema.graphql --url "$url" "${auth[@]}" --max-examples "$examples" --seed 1 >"$data/$caller.txt" 2>&1 ||
    status=$?
  if [ "$status" -eq 0 ]; then
    tail -n 8 "$data/$caller.txt"
  else
    cat "$data/$caller.txt"
    echo "schemathesis found failures as $caller" >&2
    exit 1
  fi
done
