#!/usr/bin/env bash
# The whole test suite: formatting and lints, unit and request tests on SQLite and on
# PostgreSQL, then end-to-end journeys in Chromium against the built app.
# Installs and starts what it needs, and stops what it started.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$HATCHERY_ROOT"
T0=$(date +%s)
ensure_build_tools
ensure_e2e_tools
apt_install postgresql-client
log "tools ready after $(( $(date +%s) - T0 )) s"
log "free disk space: $(df -Ph . | awk 'NR==2 {print $4}')"

# The leptos crates read this at compile time; cargo-leptos sets it, so set it for cargo test
# too, or each would rebuild the other's artifacts.
export LEPTOS_OUTPUT_NAME=hatchery
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A one-off build (CI) gains nothing from incremental caches, which would double the target
# directory's size on disk.
if [ "${CI:-}" = "true" ]; then export CARGO_INCREMENTAL=0; fi

STARTED_PG=""
STARTED_SLURM=""
STARTED_SLURM2411=""
SERVER_PID=""
E2E_DIR=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  [ -n "$E2E_DIR" ] && rm -rf "$E2E_DIR"
  if command -v psql >/dev/null 2>&1 && [ -n "${PG_URL:-}" ]; then
    psql "$PG_URL" -Atqc "SELECT datname FROM pg_database WHERE datname LIKE 'hatchery_test_%'" 2>/dev/null \
      | while read -r db; do psql "$PG_URL" -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null 2>&1 || true; done
  fi
  if [ -n "$STARTED_SLURM" ]; then log "stopping the Slurm we started"; bash "$HATCHERY_ROOT/scripts/slurm.sh" down || true; fi
  if [ -n "$STARTED_SLURM2411" ]; then log "stopping the Slurm 24.11 we started"; bash "$HATCHERY_ROOT/scripts/slurm-2411.sh" down || true; fi
  if [ -n "$STARTED_PG" ]; then log "stopping the PostgreSQL we started"; pg_ctlcluster --skip-systemctl-redirect "$STARTED_PG" main stop || true; fi
}
trap cleanup EXIT

ensure_postgres() {
  if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then return 0; fi
  apt_install postgresql
  local ver
  ver="$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1)"
  if [ -z "$ver" ]; then
    ver="$(ls /usr/lib/postgresql | sort -V | tail -n1)"
    pg_createcluster "$ver" main >/dev/null
  fi
  log "starting PostgreSQL $ver"
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  STARTED_PG="$ver"
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  su postgres -c "psql -qc \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
}
ensure_postgres
# A real Slurm 22.05 with slurmrestd, for the allocation sync tests.
if ! bash scripts/slurm.sh status >/dev/null 2>&1; then
  STARTED_SLURM=1
  bash scripts/slurm.sh up >/dev/null
fi
export HATCHERY_SLURM_URL="http://127.0.0.1:${HATCHERY_SLURM_PORT:-6820}"
export SLURM_CONF="${HATCHERY_SLURM_DIR:-/run/hatchery-slurm}/etc/slurm.conf"
# A real Slurm 24.11 (REST v0.0.42, JWT) in its chroot beside it: its daemons are found by PID
# and chroot only, so the two clusters run at once. The first run on a machine debootstraps
# the chroot (about 75 s); later runs bring it up in a few seconds.
T_SLURM2411=$(date +%s)
if ! bash scripts/slurm-2411.sh status >/dev/null 2>&1; then
  STARTED_SLURM2411=1
  bash scripts/slurm-2411.sh up >/dev/null
fi
eval "$(bash scripts/slurm-2411.sh env)"
export SLURM2411_URL SLURM2411_SOCKET_URL SLURM2411_CLUSTER SLURM2411_USER SLURM2411_TOKEN_FILE SLURM2411_ROOT
log "Slurm 24.11 ready after $(( $(date +%s) - T_SLURM2411 )) s"
PG_URL="${HATCHERY_TEST_POSTGRES_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}"
export HATCHERY_TEST_POSTGRES_URL="$PG_URL"

log "cargo fmt --check"
cargo fmt --all -- --check

log "clippy (server and app, -D warnings)"
cargo clippy --workspace --all-targets -- -D warnings
log "clippy (the wasm bundle, -D warnings)"
cargo clippy -p hatchery-app --features hydrate --target wasm32-unknown-unknown -- -D warnings

# Every test in a process of its own, killed (and failed, by name) after 5 minutes.
log "tests on SQLite"
HATCHERY_TEST_DATABASE=sqlite cargo nextest run --workspace
log "tests on PostgreSQL"
HATCHERY_TEST_DATABASE=postgres cargo nextest run --workspace

# The build users get: release, the bundle through wasm-opt, compressed copies beside it.
log "building the release app for the end-to-end tests"
build_site --release
BIN="${CARGO_TARGET_DIR:-$HATCHERY_ROOT/target}/release/hatchery"
E2E_DIR="$(mktemp -d)"
PORT="${HATCHERY_E2E_PORT:-3197}"
HATCHERY_DATA_DIR="$E2E_DIR" HATCHERY_ADDR="127.0.0.1:$PORT" HATCHERY_PUBLIC_URL="http://127.0.0.1:$PORT" \
  HATCHERY_SITE_ROOT="$HATCHERY_ROOT/target/site" HATCHERY_WORKER_POLL_MS=200 HATCHERY_USAGE_IMPORT_SECONDS=5 LEPTOS_ENV=PROD \
  "$BIN" serve > "$E2E_DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
  curl -fsS "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$E2E_DIR/server.log"; exit 1; }
  sleep 0.5
done
E2E_ADMIN_EMAIL=admin@e2e.example.org
E2E_ADMIN_PASSWORD="e2e admin $(date +%s)"
printf '%s' "$E2E_ADMIN_PASSWORD" | HATCHERY_DATA_DIR="$E2E_DIR" "$BIN" user create \
  --email "$E2E_ADMIN_EMAIL" --name "E2E Admin" --role admin >/dev/null
log "end-to-end tests in Chromium"
if ! (cd end2end && HATCHERY_E2E_URL="http://127.0.0.1:$PORT" HATCHERY_E2E_MAIL_DIR="$E2E_DIR/mail" \
      HATCHERY_E2E_ADMIN_EMAIL="$E2E_ADMIN_EMAIL" HATCHERY_E2E_ADMIN_PASSWORD="$E2E_ADMIN_PASSWORD" \
      node --test --test-concurrency=1 tests/); then
  warn "end-to-end tests failed; the server's log:"; tail -n 80 "$E2E_DIR/server.log"; exit 1
fi
log "the JSON API against its OpenAPI document (schemathesis)"
bash scripts/schemathesis.sh "$BIN"
log "all tests passed in $(( $(date +%s) - T0 )) s (target directory: $(du -sh "${CARGO_TARGET_DIR:-$HATCHERY_ROOT/target}" 2>/dev/null | cut -f1))"
