#!/usr/bin/env bash
# Reconciles N startups (default 1000) against a real Slurm 22.05 through slurmrestd and prints
# the time and jobs/s. Brings Slurm up if it is not (and stops it after), uses a fresh SQLite
# data directory, and removes the benchmark's Slurm accounts at the end.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$HATCHERY_ROOT"
N="${1:-1000}"
WORKERS="${HATCHERY_BENCH_WORKERS:-4}"
ensure_rust
STARTED_SLURM=""
DATA="$(mktemp -d)"
PREFIX="bench$(date +%s | tail -c 6)"
cleanup() {
  bash scripts/slurm.sh reset-accounts "$PREFIX" >/dev/null 2>&1 || true
  rm -rf "$DATA"
  if [ -n "$STARTED_SLURM" ]; then bash scripts/slurm.sh down || true; fi
}
trap cleanup EXIT
if ! bash scripts/slurm.sh status >/dev/null 2>&1; then
  STARTED_SLURM=1
  bash scripts/slurm.sh up >/dev/null
fi
log "building a release binary"
cargo build --release -p hatchery --quiet
log "reconciling $N startups ($WORKERS sync workers) against slurmrestd"
HATCHERY_DATA_DIR="$DATA" RUST_LOG=warn "${CARGO_TARGET_DIR:-target}/release/hatchery" bench-reconcile \
  --startups "$N" --prefix "$PREFIX" --workers "$WORKERS" \
  --slurm-url "http://127.0.0.1:${HATCHERY_SLURM_PORT:-6820}"
