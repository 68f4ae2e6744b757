#!/usr/bin/env bash
# The page benchmark: a release build serving a demo park of N startups (default 10,000, about
# a million ledger entries) on the embedded SQLite, loaded by wrk at 50 connections; beside it,
# in the same run, a bare axum handler from the same binary (the ceiling). Each page is
# measured as many users meet it: wrk rotates over 200 different pages of each list (found by
# following the pager, as a browser does; the startups, grants and statements lists), 200
# different startups' pages, three admins and up
# to 20 founders. Prints requests/s, p50 and p99 per page, SQL statements and kilobytes per
# page, the server's peak RSS, the bundle's size raw and as sent (brotli), and first visits on
# a slow link in Chromium (bytes transferred, time to interactive: end2end/bench/first-visit.mjs).
# Pages are measured rendered on every request first (page cache off), then as served (the
# page cache on, as by default). Stops what it started and removes its data.
#
#   bash scripts/bench-pages.sh [N]        HATCHERY_BENCH_SECONDS (20), HATCHERY_BENCH_CONNECTIONS (50),
#                                          HATCHERY_BENCH_NO_BUILD=1 (measure the release build there is)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$HATCHERY_ROOT"
N="${1:-10000}"
SECONDS_EACH="${HATCHERY_BENCH_SECONDS:-20}"
CONNECTIONS="${HATCHERY_BENCH_CONNECTIONS:-50}"
PORT="${HATCHERY_BENCH_PORT:-3180}"
CEILING_PORT=$((PORT + 1))
BASE="http://127.0.0.1:$PORT"
ensure_build_tools
apt_install wrk brotli curl sqlite3
ensure_e2e_tools
export LEPTOS_OUTPUT_NAME=hatchery

DATA="$(mktemp -d)"
SERVER_PID=""
CEILING_PID=""
cleanup() {
  for pid in $SERVER_PID $CEILING_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$DATA"
}
trap cleanup EXIT

if [ "${HATCHERY_BENCH_NO_BUILD:-}" = 1 ] && [ -x "${CARGO_TARGET_DIR:-$HATCHERY_ROOT/target}/release/hatchery" ]; then
  log "measuring the release build there is (HATCHERY_BENCH_NO_BUILD=1)"
else
  log "building the release app (server and wasm bundle)"
  build_site --release >/dev/null
fi
BIN="${CARGO_TARGET_DIR:-$HATCHERY_ROOT/target}/release/hatchery"
SITE="$HATCHERY_ROOT/target/site"
PASSWORD="bench password $(date +%s)"

log "loading the demo park: $N startups"
T0=$(date +%s)
HATCHERY_DATA_DIR="$DATA" RUST_LOG=warn "$BIN" demo --startups "$N" --password "$PASSWORD" >"$DATA/demo.txt"
LOAD_SECONDS=$(( $(date +%s) - T0 ))
LEDGER=$(grep -Eio 'ledger[^0-9]*[0-9][0-9,]*' "$DATA/demo.txt" | head -n1 | grep -Eo '[0-9][0-9,]*$' | tr -d , || true)

RUST_LOG=warn "$BIN" bench-ceiling --addr "127.0.0.1:$CEILING_PORT" >"$DATA/ceiling.log" 2>&1 &
CEILING_PID=$!

# Starts the server with the page cache kept for $1 seconds (0: every request renders).
start_server() {
  # The workers would otherwise apply the demo's queued sync jobs during the measurement.
  HATCHERY_DATA_DIR="$DATA" HATCHERY_ADDR="127.0.0.1:$PORT" HATCHERY_PUBLIC_URL="$BASE" \
    HATCHERY_SITE_ROOT="$SITE" HATCHERY_WORKER_POLL_MS=600000 HATCHERY_PAGE_CACHE_SECONDS="$1" \
    RUST_LOG=warn "$BIN" serve >>"$DATA/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    curl -fsS "$BASE/readyz" >/dev/null 2>&1 && curl -fsS "http://127.0.0.1:$CEILING_PORT/" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA/server.log"; exit 1; }
    sleep 0.5
  done
  warn "the server did not become ready"; exit 1
}
stop_server() {
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status")
  if [ "$hwm" -gt "${RSS_KB:-0}" ]; then RSS_KB=$hwm; fi
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

# Signs in through the same form a browser posts; prints the session cookie.
session_of() {
  curl -sS -o /dev/null -D - -H "Origin: $BASE" \
    --data-urlencode "email=$1" --data-urlencode "password=$PASSWORD" "$BASE/api/login" \
    | tr -d '\r' | grep -io 'hatchery_session=[^;]*' | head -n1
}
statements() { curl -fsS "$BASE/metrics" | awk '/^hatchery_sql_statements_total/ {print $2}'; }

# The addresses a list's pager leads to from $1, up to $2 pages, as $3: a path per line.
follow_pager() {
  local url="$1" left="$2" cookie="$3" next
  while [ "$left" -gt 0 ] && [ -n "$url" ]; do
    echo "$url"
    next=$(curl -fsS -H "Cookie: $cookie" "$BASE$url" | grep -o 'href="[^"]*" rel="next"' | head -n1 \
      | sed -e 's/^href="//' -e 's/" rel="next"$//' -e 's/&amp;/\&/g' || true)
    url="$next"; left=$((left - 1))
  done
}

# Writes the rotation files: one "path<TAB>cookie" per line, per target.
prepare_targets() {
  ROT="$DATA/rotation"; mkdir -p "$ROT"
  ADMINS=()
  for who in admin operations talent; do
    c="$(session_of "$who@demo.hatchery.example")"
    [ -n "$c" ] || { warn "could not sign in as $who"; tail -n 20 "$DATA/server.log"; exit 1; }
    ADMINS+=("$c")
  done
  FOUNDERS=()
  while read -r email; do
    c="$(session_of "$email")"; [ -n "$c" ] && FOUNDERS+=("$c")
  done < <(sqlite3 "$DATA/hatchery.db" "SELECT DISTINCT u.email FROM users u
      JOIN startup_members m ON m.user_id = u.id JOIN grants g ON g.startup_id = m.startup_id
      WHERE g.status = 'active' ORDER BY u.id LIMIT 20")
  [ "${#FOUNDERS[@]}" -gt 0 ] || { warn "no founder could sign in"; exit 1; }
  local i=0 line path id
  : >"$ROT/dashboard"; : >"$ROT/startups"; : >"$ROT/grants"; : >"$ROT/startup"; : >"$ROT/credits"
  : >"$ROT/statements"
  for c in "${ADMINS[@]}"; do printf '/dashboard\t%s\n' "$c" >>"$ROT/dashboard"; done
  while read -r line; do
    printf '%s\t%s\n' "$line" "${ADMINS[$((i++ % 3))]}" >>"$ROT/startups"
  done < <(follow_pager /admin/startups 200 "${ADMINS[0]}")
  while read -r line; do
    printf '%s\t%s\n' "$line" "${ADMINS[$((i++ % 3))]}" >>"$ROT/grants"
  done < <(follow_pager /admin/grants 200 "${ADMINS[0]}")
  while read -r line; do
    printf '%s\t%s\n' "$line" "${ADMINS[$((i++ % 3))]}" >>"$ROT/statements"
  done < <(follow_pager /statements 200 "${ADMINS[0]}")
  # 200 startups spread over the list: the first row of each of its pages.
  while IFS=$'\t' read -r path _; do
    id=$(curl -fsS -H "Cookie: ${ADMINS[0]}" "$BASE$path" | grep -o 'data-startup="[0-9]*"' | head -n1 | grep -o '[0-9][0-9]*' || true)
    [ -n "$id" ] && printf '/startups/%s\t%s\n' "$id" "${ADMINS[$((i++ % 3))]}" >>"$ROT/startup"
  done <"$ROT/startups"
  for c in "${FOUNDERS[@]}"; do printf '/credits\t%s\n' "$c" >>"$ROT/credits"; done
  printf '/\t\n' >"$ROT/ceiling"
  cat >"$ROT/rotate.lua" <<'LUA'
-- Each thread starts at its own place in the list and takes the next line on every request.
local lines = {}
local i = 0
function setup(thread)
  thread:set("offset", math.random(1, 1000))
end
function init(args)
  for line in io.lines(os.getenv("BENCH_ROTATION")) do
    local path, cookie = line:match("^([^\t]*)\t?(.*)$")
    lines[#lines + 1] = { path = path, cookie = cookie }
  end
  i = tonumber(offset) or 0
end
function request()
  i = i + 1
  local t = lines[(i % #lines) + 1]
  local headers = {}
  if t.cookie ~= "" then headers["Cookie"] = t.cookie end
  return wrk.format("GET", t.path, headers)
end
LUA
}

# Measures every target; $1 names the pass.
measure() {
  # name | rotation file | base
  local targets=(
    "dashboard (3 admins)|dashboard|$BASE"
    "startups list (200 pages)|startups|$BASE"
    "grants list (200 pages)|grants|$BASE"
    "statements list (200 pages)|statements|$BASE"
    "startup page (200, admins)|startup|$BASE"
    "credits (${#FOUNDERS[@]} founders)|credits|$BASE"
  )
  [ -n "$CEILING_DONE" ] || targets=("ceiling (bare axum)|ceiling|http://127.0.0.1:$CEILING_PORT" "${targets[@]}")
  CEILING_DONE=1
  printf '\n%s\n%-28s %10s %9s %9s %8s %8s\n' "$1" "page (rotating over)" "req/s" "p50" "p99" "SQL/page" "KB/page"
  local t name file base rotation count bytes before after code per_page path cookie
  for t in "${targets[@]}"; do
    IFS='|' read -r name file base <<<"$t"
    rotation="$ROT/$file"; count=0; bytes=0; per_page="-"
    before=$(statements)
    while IFS=$'\t' read -r path cookie; do
      code=$(curl -s -o "$DATA/page.html" -w '%{http_code}' -H "Cookie: $cookie" "$base$path")
      [ "$code" = 200 ] || { warn "$name: $path answered $code"; exit 1; }
      bytes=$((bytes + $(stat -c %s "$DATA/page.html"))); count=$((count + 1))
    done <"$rotation"
    after=$(statements)
    if [ "$file" != ceiling ]; then
      # /metrics itself runs a few statements; they are taken off.
      probe_before=$(statements); probe_after=$(statements)
      per_page=$(awk -v a="$after" -v b="$before" -v pa="$probe_after" -v pb="$probe_before" -v n="$count" \
        'BEGIN { printf "%.1f", (a - b - (pa - pb)) / n }')
    fi
    out=$(BENCH_ROTATION="$rotation" wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency \
      -s "$ROT/rotate.lua" "$base")
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errors=$(echo "$out" | grep -E 'Non-2xx|Socket errors' || true)
    printf '%-28s %10s %9s %9s %8s %8s\n' "$name" "$rps" "$p50" "$p99" "$per_page" \
      "$(awk -v b="$bytes" -v n="$count" 'BEGIN { printf "%.1f", b / n / 1024 }')"
    [ -z "$errors" ] || warn "$name: $errors"
  done
}

CEILING_DONE=""
start_server 0
prepare_targets
measure "every request rendered (HATCHERY_PAGE_CACHE_SECONDS=0)"
log "first visits in Chromium on a slow link (1.6 Mbps, 150 ms, CPU 4x slower)"
FIRST_VISITS=$(cd end2end && node bench/first-visit.mjs "$BASE/" "$BASE/login" "$BASE/credits" "${FOUNDERS[0]}")
stop_server
start_server 5
measure "as served, with the page cache (HATCHERY_PAGE_CACHE_SECONDS=5, the default)"
curl -fsS "$BASE/metrics" | grep '^hatchery_page_cache_requests_total' | sed 's/^/  /'
stop_server

RSS="$RSS_KB kB"
WASM="$SITE/pkg/hatchery.wasm"
RAW=$(stat -c %s "$WASM")
BR=$(stat -c %s "$WASM.br" 2>/dev/null || brotli -c -q 11 "$WASM" | wc -c)
printf '\ndemo park: %s startups, %s ledger entries, loaded in %s s\n' "$N" "${LEDGER:-?}" "$LOAD_SECONDS"
printf 'server peak RSS: %s\n' "$RSS"
printf 'wasm bundle: %s bytes raw, %s bytes as sent (brotli -q 11)\n' "$RAW" "$BR"
printf '\nfirst visits (fresh profile; 1.6 Mbps down, 150 ms, CPU 4x slower), then again with the cache warm:\n'
echo "$FIRST_VISITS" | node -e '
  const lines = require("fs").readFileSync(0, "utf8").trim().split("\n").map(JSON.parse);
  const kb = (b) => (b / 1024).toFixed(1) + " KB";
  for (const l of lines) {
    const p = new URL(l.url).pathname;
    console.log(`  ${p.padEnd(9)} first: ${kb(l.first.bytes)} (bundle ${kb(l.first.bundle_bytes)}), interactive in ${(l.first.interactive_ms / 1000).toFixed(1)} s;  again: ${kb(l.again.bytes)}, ${(l.again.interactive_ms / 1000).toFixed(1)} s`);
  }'
