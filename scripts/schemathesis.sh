#!/usr/bin/env bash
# Property-based tests of the JSON API against its own OpenAPI document: schemathesis generates
# requests from /api/v1/openapi.json (valid and invalid ones) and checks every answer with all
# of its checks (no 5xx, status codes, content types and bodies as documented, invalid input
# refused, valid input accepted, auth not ignored), once with a read token and once with a
# write token, against a served demo park.
#
#   scripts/schemathesis.sh BINARY      BINARY: a built `hatchery` (scripts/test.sh passes it)
#
# Installs schemathesis (pinned) into .tools/schemathesis; starts and stops its own server on
# a fresh SQLite data directory, by PID.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
BIN="${1:?usage: scripts/schemathesis.sh path/to/hatchery}"
SCHEMATHESIS_VERSION=4.32.5
EXAMPLES="${HATCHERY_SCHEMATHESIS_EXAMPLES:-60}"
VENV="$HATCHERY_ROOT/.tools/schemathesis"

if ! "$VENV/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  python3 -m venv --help >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null \
    || apt_install python3 python3-venv
  log "installing schemathesis $SCHEMATHESIS_VERSION into $VENV"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

DATA="$(mktemp -d)"
PORT="${HATCHERY_SCHEMATHESIS_PORT:-3198}"
URL="http://127.0.0.1:$PORT"
PID=""
stop() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DATA"
}
trap stop EXIT

PASSWORD="schemathesis $(date +%s)"
HATCHERY_DATA_DIR="$DATA" "$BIN" demo --startups 30 --password "$PASSWORD" >/dev/null
HATCHERY_DATA_DIR="$DATA" HATCHERY_ADDR="127.0.0.1:$PORT" HATCHERY_PUBLIC_URL="$URL" \
  HATCHERY_PAGE_CACHE_SECONDS=0 "$BIN" serve >"$DATA/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 60); do
  curl -fsS "$URL/readyz" >/dev/null 2>&1 && break
  kill -0 "$PID" 2>/dev/null || { cat "$DATA/server.log"; exit 1; }
  sleep 0.5
done

# Tokens are issued as an admin does it: signed in, on the API tokens page.
JAR="$DATA/cookies"
curl -fsS -o /dev/null -c "$JAR" -H "Origin: $URL" -H 'Sec-Fetch-Site: same-origin' \
  -H 'Accept: application/json' --data-urlencode 'email=admin@demo.hatchery.example' \
  --data-urlencode "password=$PASSWORD" "$URL/api/login"
issue() { # SCOPE → the new token (the page's script gets it as the call's answer)
  curl -fsS -b "$JAR" -H "Origin: $URL" -H 'Sec-Fetch-Site: same-origin' \
    -H 'Accept: application/json' --data-urlencode "name=schemathesis $1" \
    --data-urlencode "scope=$1" "$URL/api/issue_api_token" | tr -d '"'
}
READ_TOKEN="$(issue read)"
WRITE_TOKEN="$(issue write)"
[ -n "$READ_TOKEN" ] && [ -n "$WRITE_TOKEN" ] && [ "$READ_TOKEN" != "$WRITE_TOKEN" ] \
  || { warn "could not issue API tokens"; tail -n 40 "$DATA/server.log"; exit 1; }

status=0
cd "$DATA"   # schemathesis keeps caches in its working directory
for scope in read write; do
  token="$READ_TOKEN"; [ "$scope" = write ] && token="$WRITE_TOKEN"
  log "schemathesis with the $scope token ($EXAMPLES examples per operation, all checks)"
  if ! "$VENV/bin/schemathesis" --config-file "$HATCHERY_ROOT/scripts/schemathesis.toml" \
      run "$URL/api/v1/openapi.json" --url "$URL" \
      --checks all --max-examples "$EXAMPLES" --seed 1 --workers 1 \
      --request-timeout 20 --no-color --header "Authorization: Bearer $token" \
      --generation-database none; then
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  warn "schemathesis found failures; the server's log:"; tail -n 60 "$DATA/server.log"
fi
exit "$status"
