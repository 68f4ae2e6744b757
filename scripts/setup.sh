#!/usr/bin/env bash
# Installs what Hatchery needs to build (and, with --test, to test) on Debian 12, idempotently:
# only what is missing is installed. Sourced by run.sh and test.sh; safe to run on its own.
set -euo pipefail

HATCHERY_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CARGO_LEPTOS_VERSION=0.3.10
NODE_BINARYEN_BIN="$HATCHERY_ROOT/tools/node_modules/.bin"

log() { printf '\033[1;32m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m==>\033[0m %s\n' "$*" >&2; }

APT_UPDATED=0
apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    warn "missing Debian packages: ${missing[*]} (run as root, or install them)"; return 1
  fi
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ "$APT_UPDATED" -eq 0 ]; then apt-get update -qq; APT_UPDATED=1; fi
  # A busy machine can fail an install once ("rename failed"): try again.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

ensure_base() {
  apt_install ca-certificates git pkg-config gcc libc6-dev
}

# Without rustup and cargo, use Debian's own Rust build that can target wasm (1.96).
CARGO_BIN_DIR="${CARGO_HOME:-$HOME/.cargo}/bin"

ensure_rust() {
  export PATH="$CARGO_BIN_DIR:$PATH"
  if command -v cargo >/dev/null 2>&1; then return 0; fi
  warn "no cargo found: using Debian's rustc-web"
  apt_install rustc-web cargo-web rust-web-src rust-web-llvm
  export PATH="/usr/lib/rust-web/bin:$PATH"
  command -v cargo >/dev/null 2>&1 || { warn "cargo-web did not provide cargo"; return 1; }
}

wasm_target_ready() {
  local sysroot
  sysroot="$(rustc --print sysroot)"
  ls "$sysroot"/lib/rustlib/wasm32-unknown-unknown/lib/libstd-*.rlib >/dev/null 2>&1
}

# The wasm32 standard library: rustup's download first; else the fallback measured in
# shared/notes: build it from Debian's rust-web-src with the rustc-web compiler.
ensure_wasm_target() {
  wasm_target_ready && return 0
  if command -v rustup >/dev/null 2>&1; then
    log "adding the wasm32-unknown-unknown target"
    if timeout 300 rustup target add wasm32-unknown-unknown && wasm_target_ready; then return 0; fi
    warn "rustup could not download the wasm32 target; falling back to Debian's rustc-web"
  fi
  apt_install rustc-web cargo-web rust-web-src rust-web-llvm
  local tmp
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/src"
  printf '[package]\nname = "wasmstd"\nversion = "0.0.0"\nedition = "2021"\n[lib]\npath = "src/lib.rs"\n' > "$tmp/Cargo.toml"
  printf '#![no_std]\n' > "$tmp/src/lib.rs"
  (cd "$tmp" && RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 RUSTFLAGS=-Cembed-bitcode=yes \
    /usr/bin/cargo build --release --target wasm32-unknown-unknown -Zbuild-std=std,panic_abort)
  mkdir -p /usr/lib/rustlib/wasm32-unknown-unknown/lib
  find "$tmp/target/wasm32-unknown-unknown/release/deps" -name 'lib*.rlib' ! -name 'libwasmstd-*' \
    -exec cp {} /usr/lib/rustlib/wasm32-unknown-unknown/lib/ \;
  rm -rf "$tmp"
  if command -v rustup >/dev/null 2>&1; then
    rustup toolchain link debweb /usr
    export RUSTUP_TOOLCHAIN=debweb
  fi
  wasm_target_ready || { warn "the wasm32 target is still missing"; return 1; }
}

ensure_wasm_bindgen() {
  local want have
  want="$(awk '/^name = "wasm-bindgen"$/{getline; gsub(/version = |"/, ""); print; exit}' "$HATCHERY_ROOT/Cargo.lock")"
  have="$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" || true
  [ "$have" = "$want" ] && return 0
  log "installing wasm-bindgen-cli $want (must match Cargo.lock)"
  cargo install --force wasm-bindgen-cli --version "$want"
}

ensure_cargo_leptos() {
  if cargo leptos --version 2>/dev/null | grep -q "$CARGO_LEPTOS_VERSION"; then return 0; fi
  log "installing cargo-leptos $CARGO_LEPTOS_VERSION (no downloads of its own; LTO off to build faster)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 CARGO_PROFILE_RELEASE_OPT_LEVEL=1 \
    cargo install --force --locked cargo-leptos --version "$CARGO_LEPTOS_VERSION" --features no_downloads
}

# cargo-nextest runs each test in its own process with a time limit (.config/nextest.toml), so a
# hung test fails in minutes and names itself.
ensure_nextest() {
  if cargo nextest --version >/dev/null 2>&1; then return 0; fi
  log "installing cargo-nextest"
  cargo install --locked cargo-nextest
}

ensure_node() {
  if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then return 0; fi
  apt_install nodejs npm
}

# binaryen 132 from npm: Debian's wasm-opt (108) breaks Leptos hydration in release builds.
ensure_wasm_opt() {
  ensure_node
  if [ ! -x "$NODE_BINARYEN_BIN/wasm-opt" ]; then
    log "installing wasm-opt (binaryen 132) from npm"
    (cd "$HATCHERY_ROOT/tools" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  export PATH="$NODE_BINARYEN_BIN:$PATH"
}

ensure_e2e_tools() {
  ensure_node
  apt_install chromium fonts-noto-cjk
  if [ ! -d "$HATCHERY_ROOT/end2end/node_modules/playwright-core" ] || [ ! -d "$HATCHERY_ROOT/end2end/node_modules/axe-core" ]; then
    log "installing the end-to-end test packages"
    (cd "$HATCHERY_ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
}

ensure_build_tools() {
  ensure_base
  ensure_rust
  ensure_nextest
  ensure_wasm_target
  ensure_wasm_bindgen
  ensure_cargo_leptos
  ensure_wasm_opt
}

# Builds the app (server and wasm bundle; arguments go to `cargo leptos build`, e.g. --release),
# then, for a release build, writes each bundle file's brotli and gzip copies beside it
# (`.br`, `.gz`): the server sends the one the browser accepts (server/src/assets.rs).
build_site() {
  cargo leptos build "$@"
  case " $* " in *" --release "*) ;; *) return 0 ;; esac
  apt_install brotli gzip
  local pkg="$HATCHERY_ROOT/target/site/pkg" file
  for file in "$pkg"/hatchery.js "$pkg"/hatchery.wasm "$pkg"/hatchery.css; do
    [ -f "$file" ] || continue
    brotli -f -q 11 -o "$file.br" "$file"
    gzip -9 -n -c "$file" > "$file.gz"
    # brotli copies the file's time to the second: a copy must be newer than its file.
    touch "$file.br" "$file.gz"
  done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  ensure_build_tools
  if [ "${1:-}" = "--test" ]; then ensure_e2e_tools; fi
  log "build tools are ready"
fi
