#!/usr/bin/env bash
# Builds Hatchery (release) and runs it on the embedded SQLite at http://127.0.0.1:3000.
# Installs whatever the build needs first, only when it is missing.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$HATCHERY_ROOT"
ensure_build_tools

log "building Hatchery (release)"
build_site --release

export HATCHERY_DATA_DIR="${HATCHERY_DATA_DIR:-$HATCHERY_ROOT/data}"
export HATCHERY_ADDR="${HATCHERY_ADDR:-127.0.0.1:3000}"
export HATCHERY_SITE_ROOT="$HATCHERY_ROOT/target/site"
export LEPTOS_ENV=PROD
BIN="${CARGO_TARGET_DIR:-$HATCHERY_ROOT/target}/release/hatchery"
"$BIN" migrate >/dev/null

cat <<MSG

  Hatchery runs at http://$HATCHERY_ADDR  (data in $HATCHERY_DATA_DIR)

  Create the first administrator in another terminal (the password is read from stdin):
    printf '%s' 'a long password' | HATCHERY_DATA_DIR=$HATCHERY_DATA_DIR \\
      $BIN user create --email admin@example.org --name "Park Admin" --role admin

  Without an SMTP server (HATCHERY_SMTP_URL), emails are written as .eml files to
  $HATCHERY_DATA_DIR/mail and listed at /admin/outbox.

MSG
exec "$BIN" serve
