#!/usr/bin/env bash
# Reconciles N startups (default 1000) against a real Slurm through slurmrestd and prints the
# time, the jobs/s and the REST calls per startup:
#   scripts/bench-reconcile.sh [N] [2411|2205]
# 2411 (the default): Slurm 24.11 (v0.0.42, JWT, a QOS per startup, written in batches) from
# scripts/slurm-2411.sh; 2205: Slurm 22.05 (v0.0.38, one startup at a time) from scripts/slurm.sh.
# Brings the cluster up if it is not (and stops it after), uses a fresh SQLite data directory,
# and removes the benchmark's Slurm accounts, users and QOS at the end.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
cd "$HATCHERY_ROOT"
N="${1:-1000}"
SLURM="${2:-2411}"
WORKERS="${HATCHERY_BENCH_WORKERS:-4}"
case "$SLURM" in
  2411) SCRIPT=scripts/slurm-2411.sh ;;
  2205) SCRIPT=scripts/slurm.sh ;;
  *) warn "usage: $0 [N] [2411|2205]"; exit 2 ;;
esac
ensure_rust
STARTED_SLURM=""
DATA="$(mktemp -d)"
PREFIX="bench$(date +%s | tail -c 6)"
cleanup() {
  bash "$SCRIPT" reset-accounts "$PREFIX" > /dev/null 2>&1 || true
  rm -rf "$DATA"
  if [ -n "$STARTED_SLURM" ]; then bash "$SCRIPT" down || true; fi
}
trap cleanup EXIT
if ! bash "$SCRIPT" status > /dev/null 2>&1; then
  STARTED_SLURM=1
  bash "$SCRIPT" up > /dev/null
fi
if [ "$SLURM" = 2411 ]; then
  eval "$(bash "$SCRIPT" env)"
  ARGS=(--slurm-url "$SLURM2411_SOCKET_URL" --cluster "$SLURM2411_CLUSTER"
    --token-file "$SLURM2411_TOKEN_FILE" --token-user "$SLURM2411_USER")
else
  ARGS=(--slurm-url "http://127.0.0.1:${HATCHERY_SLURM_PORT:-6820}")
fi
log "building a release binary"
cargo build --release -p hatchery --quiet
log "reconciling $N startups ($WORKERS sync workers) against Slurm $SLURM"
HATCHERY_DATA_DIR="$DATA" RUST_LOG=warn "${CARGO_TARGET_DIR:-target}/release/hatchery" bench-reconcile \
  --startups "$N" --prefix "$PREFIX" --workers "$WORKERS" "${ARGS[@]}"
