#!/usr/bin/env bash
# The page benchmark: a release build serving a demo park of N startups (default 10,000, about
# a million ledger entries) on the embedded SQLite, loaded by wrk at 50 connections; beside it,
# in the same run, a bare axum handler from the same binary (the ceiling). Prints requests/s,
# p50 and p99 per page, SQL statements per page (from /metrics), the server's peak RSS and the
# wasm bundle's size raw and brotli-compressed. The pages are measured twice: rendered on every
# request (page cache off), then as served (the page cache on, as by default). Stops what it
# started and removes its data.
#
#   bash scripts/bench-pages.sh [N]        HATCHERY_BENCH_SECONDS (20), HATCHERY_BENCH_CONNECTIONS (50)
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
apt_install wrk brotli curl
export LEPTOS_OUTPUT_NAME=hatchery

DATA="$(mktemp -d)"
SERVER_PID=""
CEILING_PID=""
cleanup() {
  for pid in $SERVER_PID $CEILING_PID; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$DATA"
}
trap cleanup EXIT

log "building the release app (server and wasm bundle)"
build_site --release >/dev/null
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

# Measures every target; $1 names the pass.
measure() {
  ADMIN="$(session_of admin@demo.hatchery.example)"
  FOUNDER="$(session_of founder@demo.hatchery.example)"
  [ -n "$ADMIN" ] && [ -n "$FOUNDER" ] || { warn "could not sign in"; tail -n 20 "$DATA/server.log"; exit 1; }
  # name | URL | cookie
  local targets=(
    "dashboard (admin)|$BASE/dashboard|$ADMIN"
    "startups list|$BASE/admin/startups|$ADMIN"
    "grants list|$BASE/admin/grants|$ADMIN"
    "credit page (founder)|$BASE/credits|$FOUNDER"
  )
  [ -n "$CEILING_DONE" ] || targets=("ceiling (bare axum)|http://127.0.0.1:$CEILING_PORT/|" "${targets[@]}")
  CEILING_DONE=1
  printf '\n%s\n%-24s %10s %9s %9s %8s\n' "$1" "page" "req/s" "p50" "p99" "SQL/page"
  for t in "${targets[@]}"; do
    IFS='|' read -r name url cookie <<<"$t"
    header=()
    [ -n "$cookie" ] && header=(-H "Cookie: $cookie")
    code=$(curl -s -o /dev/null -w '%{http_code}' "${header[@]}" "$url")
    [ "$code" = 200 ] || { warn "$name answered $code"; exit 1; }
    per_page="-"
    if [ -n "$cookie" ]; then
      before=$(statements)
      for _ in $(seq 1 20); do curl -s -o /dev/null "${header[@]}" "$url"; done
      after=$(statements)
      # /metrics itself runs a few statements; they are taken off.
      probe_before=$(statements); probe_after=$(statements)
      per_page=$(awk -v a="$after" -v b="$before" -v pa="$probe_after" -v pb="$probe_before" \
        'BEGIN { printf "%.1f", (a - b - (pa - pb)) / 20 }')
    fi
    out=$(wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency "${header[@]}" "$url")
    rps=$(echo "$out" | awk '/^Requests\/sec/ {print $2}')
    p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
    p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
    errors=$(echo "$out" | grep -E 'Non-2xx|Socket errors' || true)
    printf '%-24s %10s %9s %9s %8s\n' "$name" "$rps" "$p50" "$p99" "$per_page"
    [ -z "$errors" ] || warn "$name: $errors"
  done
}

CEILING_DONE=""
start_server 0
measure "every request rendered (HATCHERY_PAGE_CACHE_SECONDS=0)"
stop_server
start_server 5
measure "as served, with the page cache (HATCHERY_PAGE_CACHE_SECONDS=5, the default)"
curl -fsS "$BASE/metrics" | grep '^hatchery_page_cache_requests_total' | sed 's/^/  /'
stop_server

RSS="$RSS_KB kB"
WASM=$(ls "$SITE"/pkg/*.wasm | head -n1)
RAW=$(stat -c %s "$WASM")
BR=$(brotli -c -q 11 "$WASM" | wc -c)
printf '\ndemo park: %s startups, %s ledger entries, loaded in %s s\n' "$N" "${LEDGER:-?}" "$LOAD_SECONDS"
printf 'server peak RSS: %s\n' "$RSS"
printf 'wasm bundle: %s bytes raw, %s bytes brotli (-q 11)\n' "$RAW" "$BR"
