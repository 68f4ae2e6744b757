#!/usr/bin/env bash
# A real single-node Slurm 24.11 (Debian 13 "trixie" packages) in a chroot, with 4 fake GPUs and
# slurmrestd with JWT auth (REST dialects v0.0.40/41/42), for the tests that sync GPU-credit
# grants to a current Slurm. Idempotent; run as root; needs no systemd and no terminal. It runs
# beside scripts/slurm.sh's 22.05 (other ports, its own munge, no process matched by name).
#
#   scripts/slurm-2411.sh up                     build the chroot if missing, start what is not running
#   scripts/slurm-2411.sh down                   stop exactly what `up` started, unmount /proc and /sys
#   scripts/slurm-2411.sh status                 which daemons answer, and whether the REST API does
#   scripts/slurm-2411.sh env                    print the variables tests need (as `up` does)
#   scripts/slurm-2411.sh token [USER [SECS]]    print a fresh JWT for USER (default slurm, an admin)
#   scripts/slurm-2411.sh purge                  down, then drop the database and the Slurm state
#   scripts/slurm-2411.sh rest-stop | rest-start  stop slurmrestd alone (by PID) / start it again
#                                                (a fresh token too): the tests' outage of the API
#   scripts/slurm-2411.sh reset-accounts PREFIX  delete the accounts named PREFIX*, their test users,
#                                                QOS and finished job records
#
# Everything lives in the chroot $SLURM2411_ROOT (default /var/lib/hatchery/slurm-2411/root, kept
# across runs: the first `up` debootstraps it, ≈ 75 s and ≈ 320 MB; later ones take seconds):
# /etc/slurm, /var/lib/slurm (state, JWT key), /var/spool/slurmd, /var/log/slurm, and
# /run/hatchery-2411 (PIDs, fake GPUs, the current token, the REST socket). The accounting
# database is in the host's MariaDB (127.0.0.1:3306, root without password or
# $SLURM2411_DB_ROOT_PASS), database slurm_acct_2411.
# Ports (loopback; the chroot shares the host's network): slurmctld 6917, slurmd 6918, slurmdbd
# 6919, slurmrestd 6920 (SLURM2411_REST_PORT=0: the unix socket only). slurmrestd always listens
# on the unix socket $SLURM2411_ROOT/run/hatchery-2411/rest/slurmrestd.sock too, and serves as
# the unprivileged user `slurmrestd` (it only opens its sockets as root).
# Clients: `chroot $SLURM2411_ROOT sacctmgr|sbatch|scontrol …` (/etc/slurm/slurm.conf there); job
# users must exist in the chroot (`chroot $SLURM2411_ROOT useradd -M -s /usr/sbin/nologin alice`).
# See ../shared/notes/slurm-24.11.md (measured facts) and scripts/slurm-notes.md.
set -euo pipefail

ROOT="${SLURM2411_ROOT:-/var/lib/hatchery/slurm-2411/root}"
SUITE="${SLURM2411_SUITE:-trixie}"
REST_PORT="${SLURM2411_REST_PORT:-6920}"
CTLD_PORT="${SLURM2411_CTLD_PORT:-6917}"
SLURMD_PORT="${SLURM2411_SLURMD_PORT:-6918}"
DBD_PORT="${SLURM2411_DBD_PORT:-6919}"
DB_NAME="${SLURM2411_DB:-slurm_acct_2411}"
DB_USER="${SLURM2411_DB_USER:-slurm2411}"
DB_PASS="${SLURM2411_DB_PASS:-hatchery-slurm-2411}"
CLUSTER="${SLURM2411_CLUSTER:-ci2411}"
NODE=ci-node
GPUS=4
TOKEN_USER=slurm                      # SlurmUser: an administrator for slurmctld and slurmdbd
IN=/run/hatchery-2411                 # our own folder, as seen inside the chroot
H="$ROOT$IN"                          # … and from the host
PIDS="$H/pids"
LOGS="$ROOT/var/log/slurm"
SOCK_IN="$IN/rest/slurmrestd.sock"    # slurmrestd's unix socket, inside the chroot
SOCK="$ROOT$SOCK_IN"                  # … and from the host
if [ "$REST_PORT" != 0 ]; then BASE="http://127.0.0.1:$REST_PORT"; else BASE=""; fi
PACKAGES=(slurmctld slurmd slurmdbd slurmrestd slurm-client slurm-wlm-jwt-plugin munge curl jq ca-certificates)

log() { printf '\033[1;32m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m==>\033[0m %s\n' "$*" >&2; exit 1; }
need_root() { [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 $*"; }
elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# Run a command inside the chroot, with none of the host's Slurm variables.
inr() { env -u SLURM_CONF -u SLURM_JWT -u SLURMRESTD_SECURITY LC_ALL=C.UTF-8 chroot "$ROOT" "$@"; }

# ---- processes this script started: $PIDS/NAME.pid holds "PID TOKEN" --------------------------
# TOKEN must occur in /proc/PID/cmdline and the process must live in our chroot, so neither a
# recycled PID nor a process of another cluster (scripts/slurm.sh's 22.05) is taken for ours.
ROOT_REAL="$(readlink -m "$ROOT")"
in_chroot() { [ "$(readlink "/proc/$1/root" 2> /dev/null)" = "$ROOT_REAL" ]; }

pid_of() { # NAME → PID of the live process we started, or nothing (status 1)
  local f="$PIDS/$1.pid" pid token
  [ -f "$f" ] || return 1
  read -r pid token < "$f" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$token" || return 1
  in_chroot "$pid" || return 1
  echo "$pid"
}

start_bg() { # NAME TOKEN CMD…: CMD in a session of its own, detached, its PID recorded
  local name="$1" token="$2"; shift 2
  # None of the host's Slurm variables: the suite exports SLURM_CONF for its 22.05 cluster, and
  # the chroot's daemons would read that file instead of their own.
  setsid env -u SLURM_CONF -u SLURM_JWT -u SLURMRESTD_SECURITY "$@" < /dev/null >> "$LOGS/$name.out" 2>&1 &
  echo "$! $token" > "$PIDS/$name.pid"
}

stop_pids() { # PID…: TERM (the group, else the process), wait up to 15 s, then KILL
  local pid pids=("$@") alive
  [ ${#pids[@]} -gt 0 ] || return 0
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true; done
  for _ in $(seq 1 150); do
    alive=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive=1; done
    [ "$alive" -eq 1 ] || return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    [ -d "/proc/$pid" ] || continue
    warn "pid $pid did not stop within 15 s: killing it"
    kill -KILL -- "-$pid" 2> /dev/null || kill -KILL "$pid" 2> /dev/null || true
  done
}

stop_group() { # NAME…: stops (in parallel) the daemons of those NAMEs that we started
  local name pid pids=()
  for name in "$@"; do
    if pid="$(pid_of "$name")"; then log "stopping $name (pid $pid)"; pids+=("$pid"); fi
    rm -f "$PIDS/$name.pid"
  done
  stop_pids "${pids[@]}"
}

chroot_pids() { # PIDs of every process whose root is our chroot
  local p
  for p in /proc/[0-9]*; do in_chroot "${p#/proc/}" && echo "${p#/proc/}"; done; return 0
}

no_steps() { # no slurmstepd left in our chroot
  local p
  for p in $(chroot_pids); do grep -qsx slurmstepd "/proc/$p/comm" && return 1; done; return 0
}

wait_for() { # SECONDS CMD…: polls CMD every 0.25 s
  local secs="$1"; shift
  local end=$(( $(date +%s) + secs ))
  until "$@" > /dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.25
  done
}

tail_log() { [ -f "$LOGS/$1" ] && { warn "last lines of $LOGS/$1:"; tail -n 25 "$LOGS/$1" >&2; }; return 0; }

# ---- health checks (quiet; status 0 = healthy) ------------------------------------------------

munge_ok() { inr munge -n 2> /dev/null | inr unmunge > /dev/null 2>&1; }
slurmdbd_ok() { inr timeout 10 sacctmgr -n show cluster > /dev/null 2>&1; }
cluster_ok() { inr timeout 10 sacctmgr -n -P show cluster format=cluster 2> /dev/null | grep -qx "$CLUSTER"; }
slurmctld_ok() { inr timeout 10 scontrol ping 2> /dev/null | grep -q 'is UP'; }
node_state() { inr timeout 10 sinfo -h -n "$NODE" -o %T 2> /dev/null | head -n1; }
node_ok() { case "$(node_state)" in idle|mixed|allocated|completing|planned) return 0;; *) return 1;; esac; }
# HTTP status of an authenticated read through TRANSPORT (tcp|unix); 000: no answer. A bad token
# still gets 200 from /slurm/…/ping: /slurmdb/…/diag checks the token too.
rest_code() {
  local tok via=()
  tok="$(cat "$H/token" 2> /dev/null || true)"
  case "$1" in
    tcp) [ -n "$BASE" ] || { echo off; return 0; }; via=("$BASE/slurmdb/v0.0.42/diag") ;;
    unix) via=(--unix-socket "$SOCK" "http://slurmrestd/slurmdb/v0.0.42/diag") ;;
  esac
  curl -s -o /dev/null -w '%{http_code}' --max-time 5 -H "X-SLURM-USER-NAME: $TOKEN_USER" \
    -H "X-SLURM-USER-TOKEN: $tok" "${via[@]}" 2> /dev/null || true
}
rest_ok() { [ "$(rest_code unix)" = 200 ] && case "$(rest_code tcp)" in 200|off) true;; *) false;; esac; }
db() { MYSQL_PWD="${SLURM2411_DB_ROOT_PASS:-}" mariadb --protocol=tcp -h127.0.0.1 -P3306 -uroot "$@"; }
db_slurm() { MYSQL_PWD="$DB_PASS" mariadb --protocol=tcp -h127.0.0.1 -P3306 -u"$DB_USER" "$DB_NAME" "$@"; }

# ---- up ---------------------------------------------------------------------------------------

ensure_chroot() {
  # (usr/sbin/slurmctld is an absolute link into /etc/alternatives: test slurmdbd instead)
  if [ ! -x "$ROOT/usr/sbin/slurmdbd" ]; then
    command -v debootstrap > /dev/null || {
      log "installing debootstrap"
      apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap > /dev/null
    }
    # The host's own Debian mirror (from its apt sources), so no address is written here.
    local mirror="${SLURM2411_MIRROR:-}"
    [ -n "$mirror" ] || mirror="$( { grep -rhoE '(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list \
      /etc/apt/sources.list.d/ 2> /dev/null || true; } | grep -oE 'https?://[^ ]+' | head -n1 || true)"
    [ -n "$mirror" ] || die "no Debian mirror found in /etc/apt: set SLURM2411_MIRROR"
    # A debootstrap that died half-way leaves a tree it refuses to continue: start afresh.
    if [ -d "$ROOT" ] && [ -n "$(ls -A "$ROOT" 2> /dev/null)" ]; then
      [ "$ROOT_REAL" != / ] && [ -d "$ROOT/debootstrap" ] \
        || die "$ROOT is not empty and holds no Slurm: remove it or set SLURM2411_ROOT"
      mountpoint -q "$ROOT/proc" && die "$ROOT has /proc mounted but no Slurm: run $0 down first"
      warn "$ROOT holds an unfinished debootstrap: removing it"
      rm -rf --one-file-system "$ROOT"
    fi
    log "debootstrap $SUITE into $ROOT from $mirror (≈ 75 s, ≈ 320 MB)"
    mkdir -p "$ROOT"
    local list; list="$(IFS=,; echo "${PACKAGES[*]}")"
    debootstrap --variant=minbase --include="$list" "$SUITE" "$ROOT" "$mirror" > "$ROOT.debootstrap.log" 2>&1 \
      || { tail -n 20 "$ROOT.debootstrap.log" >&2; die "debootstrap failed (log: $ROOT.debootstrap.log)"; }
  fi
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do inr dpkg -s "$pkg" > /dev/null 2>&1 || missing+=("$pkg"); done
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]} in the chroot"
    inr env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null \
      || { inr apt-get update -qq; inr env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null; }
  fi
}

ensure_mounts() {
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  # hwloc (slurmd's topology) reads /sys; read-only is enough.
  mountpoint -q "$ROOT/sys" || mount -t sysfs -o ro sysfs "$ROOT/sys"
}

write_if_changed() { # FILE MODE OWNER(in chroot): stdin → FILE, rewritten only when the text differs
  local file="$1" mode="$2" owner="$3" tmp
  tmp="$(mktemp "$file.XXXXXX")"
  cat > "$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 0; fi
  chmod "$mode" "$tmp"; inr chown "$owner" "${tmp#"$ROOT"}"; mv -f "$tmp" "$file"
}

ensure_setup() {
  mkdir -p "$H" "$PIDS" "$H/dev" "$H/rest" "$LOGS" "$ROOT/var/lib/slurm/slurmctld" "$ROOT/var/spool/slurmd" \
    "$ROOT/run/munge" "$ROOT/var/lib/munge" "$ROOT/var/log/munge" "$ROOT/run/slurm"
  chmod 755 "$H" "$H/rest"
  chmod 700 "$PIDS"
  inr chown munge:munge /run/munge /var/lib/munge /var/log/munge
  inr chown slurm:slurm /var/log/slurm /var/lib/slurm /var/lib/slurm/slurmctld /run/slurm
  # No /etc/hosts in a minbase chroot: `localhost` would not resolve; and with NoCtldInAddrAny
  # slurmctld binds to the address of the machine's hostname, which must resolve to loopback.
  local hn; hn="$(hostname)"
  grep -qsE "^127\.0\.0\.1[[:space:]]+localhost[[:space:]]+$hn\$" "$ROOT/etc/hosts" \
    || printf '127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n' "$hn" > "$ROOT/etc/hosts"
  # slurmrestd refuses to serve as root or as SlurmUser: it drops to a user of its own.
  inr id slurmrestd > /dev/null 2>&1 || inr useradd -r -M -d /nonexistent -s /usr/sbin/nologin slurmrestd
  # It binds its unix socket after dropping to that user: the folder must be the user's.
  inr chown slurmrestd:slurmrestd "$IN/rest"
  # JWT key (HS256): readable by SlurmUser only. slurmctld and slurmdbd both need it.
  if [ ! -s "$ROOT/var/lib/slurm/jwt_hs256.key" ]; then
    log "creating the JWT key"
    dd if=/dev/urandom of="$ROOT/var/lib/slurm/jwt_hs256.key" bs=32 count=1 status=none
  fi
  inr chown slurm:slurm /var/lib/slurm/jwt_hs256.key; chmod 600 "$ROOT/var/lib/slurm/jwt_hs256.key"
  if [ ! -s "$ROOT/etc/munge/munge.key" ]; then inr mungekey -c -f > /dev/null 2>&1 || dd if=/dev/urandom of="$ROOT/etc/munge/munge.key" bs=1024 count=1 status=none; fi
  inr chown munge:munge /etc/munge /etc/munge/munge.key; chmod 700 "$ROOT/etc/munge"; chmod 400 "$ROOT/etc/munge/munge.key"
  local i
  for i in $(seq 0 $((GPUS - 1))); do [ -c "$H/dev/gpu$i" ] || mknod -m 666 "$H/dev/gpu$i" c 1 3; done

  # The node's real layout, or slurmd registers it INVALID.
  local hw
  hw="$(inr slurmd -C 2> /dev/null | head -n1 | tr ' ' '\n' \
    | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | tr '\n' ' ')"
  write_if_changed "$ROOT/etc/slurm/slurm.conf" 644 root:root <<EOF
# Written by hatchery scripts/slurm-2411.sh: one node with $GPUS fake GPUs, JWT for slurmrestd.
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=/var/lib/slurm/jwt_hs256.key
# Bind to the resolved addresses (127.0.0.1), not to every interface.
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=10
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerParameters=sched_interval=5,bf_interval=5
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStoragePort=$DBD_PORT
AccountingStorageTRES=gres/gpu
AccountingStorageEnforce=associations,limits,qos,safe
JobCompType=jobcomp/none
MailProg=/bin/true
PriorityType=priority/multifactor
# PriorityDecayHalfLife is left at its default (7 days): usage decays cluster-wide,
# except a QOS with Flags=NoDecay, whose GrpTRESMins is then a lifetime cap.
PriorityCalcPeriod=1
MinJobAge=300
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 ${hw}RealMemory=1000 Gres=gpu:$GPUS State=UNKNOWN
# AccountingStorageEnforce=safe starts a job only if its whole time limit fits in what is left
# of a GrpTRESMins: jobs need a time limit (sbatch -t), hence DefaultTime.
PartitionName=debug Nodes=$NODE Default=YES DefaultTime=10 MaxTime=INFINITE State=UP
EOF
  # 24.11's slurmd initialises a cgroup plugin even with proctrack/linuxproc + task/none, and
  # fails ("No filesystem mounted on /sys/fs/cgroup") unless it is disabled.
  write_if_changed "$ROOT/etc/slurm/cgroup.conf" 644 root:root <<EOF
CgroupPlugin=disabled
EOF
  write_if_changed "$ROOT/etc/slurm/gres.conf" 644 root:root <<EOF
AutoDetect=off
Name=gpu File=$IN/dev/gpu[0-$((GPUS - 1))]
EOF
  write_if_changed "$ROOT/etc/slurm/slurmdbd.conf" 600 slurm:slurm <<EOF
AuthType=auth/munge
AuthAltTypes=auth/jwt
AuthAltParameters=jwt_key=/var/lib/slurm/jwt_hs256.key
CommunicationParameters=NoInAddrAny
DbdHost=localhost
DbdPort=$DBD_PORT
SlurmUser=slurm
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=3306
StorageLoc=$DB_NAME
StorageUser=$DB_USER
StoragePass=$DB_PASS
PidFile=/run/slurm/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
EOF
}

ensure_munge() {
  munge_ok && return 0
  pid_of munged > /dev/null || {
    rm -f "$ROOT/run/munge/munge.socket.2" "$ROOT/run/munge/munge.socket.2.lock" "$ROOT/run/munge/munged.pid"
    log "starting munged"
    start_bg munged munged chroot "$ROOT" setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F
  }
  wait_for 15 munge_ok || { tail_log munged.out; die "munged does not answer"; }
}

ensure_db() {
  db_slurm -e 'SELECT 1' > /dev/null 2>&1 && return 0
  log "creating the database $DB_NAME and its user $DB_USER@127.0.0.1"
  db <<SQL || die "cannot set up $DB_NAME as MariaDB's root on 127.0.0.1:3306 (set SLURM2411_DB_ROOT_PASS?)"
CREATE DATABASE IF NOT EXISTS $DB_NAME;
CREATE USER IF NOT EXISTS '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'127.0.0.1' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'127.0.0.1';
CREATE USER IF NOT EXISTS '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER '$DB_USER'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON $DB_NAME.* TO '$DB_USER'@'localhost';
SQL
}

ensure_slurmdbd() {
  cluster_ok && return 0
  if ! slurmdbd_ok; then
    ensure_db
    pid_of slurmdbd > /dev/null || { log "starting slurmdbd"; start_bg slurmdbd slurmdbd chroot "$ROOT" /usr/sbin/slurmdbd -D; }
    wait_for 60 slurmdbd_ok || { tail_log slurmdbd.log; tail_log slurmdbd.out; die "slurmdbd does not answer"; }
  fi
  cluster_ok || { log "adding cluster $CLUSTER"; inr timeout 20 sacctmgr -i add cluster "$CLUSTER" > /dev/null; }
}

ensure_slurmctld() {
  slurmctld_ok && return 0
  pid_of slurmctld > /dev/null || { log "starting slurmctld"; start_bg slurmctld slurmctld chroot "$ROOT" /usr/sbin/slurmctld -D -i; }
  wait_for 40 slurmctld_ok || { tail_log slurmctld.log; tail_log slurmctld.out; die "slurmctld does not answer"; }
}

ensure_slurmd() {
  pid_of slurmd > /dev/null || { log "starting slurmd -N $NODE"; start_bg slurmd slurmd chroot "$ROOT" /usr/sbin/slurmd -D -N "$NODE"; }
  local end=$(( $(date +%s) + 40 )) resumed=0 state
  until node_ok; do
    state="$(node_state)"
    if [ "$resumed" -eq 0 ] && [[ "$state" == drain* || "$state" == down* || "$state" == inval* ]] \
       && [ "$(date +%s)" -gt $(( end - 30 )) ]; then
      warn "node $NODE is $state: resuming it"
      inr scontrol update nodename="$NODE" state=resume 2> /dev/null || true
      resumed=1
    fi
    if [ "$(date +%s)" -ge "$end" ]; then
      inr scontrol show node "$NODE" >&2 || true
      tail_log slurmd.log; tail_log slurmd.out
      die "node $NODE is not idle (state: ${state:-unknown})"
    fi
    sleep 0.25
  done
}

new_token() { # USER [LIFESPAN s] → the bare JWT
  inr scontrol token username="$1" lifespan="${2:-86400}" | sed -n 's/^SLURM_JWT=//p'
}

ensure_rest() {
  # A token for the checks (and for the tests): renewed on each `up`.
  local tok; tok="$(new_token "$TOKEN_USER")"; [ -n "$tok" ] || die "scontrol token failed"
  ( umask 077; printf '%s' "$tok" > "$H/token.new" ); mv -f "$H/token.new" "$H/token"
  rest_ok && return 0
  pid_of slurmrestd > /dev/null || {
    local listen=("unix:$SOCK_IN") where="unix:$SOCK"
    [ -z "$BASE" ] || { listen+=("127.0.0.1:$REST_PORT"); where+=" and 127.0.0.1:$REST_PORT"; }
    log "starting slurmrestd on $where (rest_auth/jwt, as user slurmrestd)"
    # A socket left by a killed slurmrestd would make the bind fail.
    rm -f "$SOCK"
    # SLURM_JWT=daemon makes slurmrestd talk to slurmctld/slurmdbd with auth/jwt (the client's
    # token); without it it uses auth/munge, which rejects every token: "Rejecting thread
    # config token for user …" in its log and 401 for every request.
    start_bg slurmrestd slurmrestd chroot "$ROOT" env SLURM_JWT=daemon /usr/sbin/slurmrestd -a rest_auth/jwt \
      -u slurmrestd -g slurmrestd "${listen[@]}"
  }
  wait_for 30 rest_ok || {
    tail_log slurmrestd.out
    die "slurmrestd does not answer (unix: $(rest_code unix), tcp: $(rest_code tcp))"
  }
}

print_env() {
  cat <<EOF
SLURM2411_URL=${BASE:-unix://$SOCK}
SLURM2411_SOCKET_URL=unix://$SOCK
SLURM2411_CLUSTER=$CLUSTER
SLURM2411_USER=$TOKEN_USER
SLURM2411_TOKEN_FILE=$H/token
SLURM2411_ROOT=$ROOT
EOF
}

cmd_up() {
  need_root up
  local t0="$EPOCHREALTIME"
  ensure_chroot
  ensure_mounts
  ensure_setup
  ensure_munge
  ensure_slurmdbd
  ensure_slurmctld
  ensure_slurmd
  ensure_rest
  log "Slurm 24.11 is up ($(elapsed "$t0") s)"
  print_env
}

# ---- down -------------------------------------------------------------------------------------

cmd_down() {
  need_root down
  local t0="$EPOCHREALTIME"
  if [ -d "$PIDS" ] && pid_of slurmctld > /dev/null && pid_of slurmd > /dev/null && slurmctld_ok; then
    # Job steps outlive slurmd: cancel the jobs on our node and let their steps end first.
    local jobs
    jobs="$(inr timeout 10 squeue -h -o %A 2> /dev/null | tr '\n' ' ')" || true
    if [ -n "${jobs// /}" ]; then
      log "cancelling jobs: $jobs"
      # shellcheck disable=SC2086
      inr scancel $jobs 2> /dev/null || true
      wait_for 15 no_steps || warn "job steps still running"
    fi
  fi
  if [ -d "$PIDS" ]; then
    stop_group slurmrestd slurmd
    rm -f "$SOCK"
    # Left-over job steps: processes in our chroot outside the sessions of the daemons still
    # running (slurmctld's child slurmscriptd is in slurmctld's session).
    local keep="" p f left=()
    for f in slurmctld slurmdbd munged; do keep+=" $(pid_of "$f" || true)"; done
    for p in $(chroot_pids); do
      [[ " $keep " == *" $(ps -o sid= -p "$p" 2> /dev/null | tr -d ' ') "* ]] || left+=("$p")
    done
    if [ ${#left[@]} -gt 0 ]; then
      warn "stopping processes left in the chroot: ${left[*]}"
      for p in "${left[@]}"; do kill -TERM "$p" 2> /dev/null || true; done
      sleep 1
      for p in "${left[@]}"; do kill -KILL "$p" 2> /dev/null || true; done
    fi
    stop_group slurmctld       # saves its state and flushes to slurmdbd: needs munge and slurmdbd
    stop_group slurmdbd munged
  fi
  local rest; rest="$(chroot_pids | tr '\n' ' ')"
  if [ -n "${rest// /}" ]; then
    warn "still running in the chroot (not started by this script?): $rest; /proc and /sys stay mounted"
  else
    if mountpoint -q "$ROOT/sys"; then umount "$ROOT/sys"; fi
    if mountpoint -q "$ROOT/proc"; then umount "$ROOT/proc"; fi
  fi
  log "Slurm 24.11 is down ($(elapsed "$t0") s)"
}

cmd_purge() {
  cmd_down
  log "dropping database $DB_NAME and the Slurm state in the chroot (the chroot itself stays)"
  db -e "DROP DATABASE IF EXISTS $DB_NAME; DROP USER IF EXISTS '$DB_USER'@'127.0.0.1'; DROP USER IF EXISTS '$DB_USER'@'localhost';" \
    || warn "could not drop $DB_NAME"
  if [ -d "$ROOT" ]; then
    rm -rf "$ROOT/var/lib/slurm/slurmctld" "$ROOT/var/spool/slurmd" "$H" "$ROOT/var/lib/slurm/jwt_hs256.key"
    find "$ROOT/var/log/slurm" -mindepth 1 -delete 2> /dev/null || true
  fi
}

# ---- status -----------------------------------------------------------------------------------

cmd_status() {
  local pid ok bad=0
  show() { # NAME CHECK…
    local name="$1"; shift
    if "$@"; then ok=up; else ok=down; bad=1; fi
    if pid="$(pid_of "$name")"; then printf '%-11s %-4s (pid %s)\n' "$name" "$ok" "$pid"; else printf '%-11s %-4s\n' "$name" "$ok"; fi
  }
  [ -x "$ROOT/usr/sbin/slurmdbd" ] || { echo "no chroot at $ROOT: down"; return 1; }
  mountpoint -q "$ROOT/proc" || { echo "chroot /proc not mounted: down"; return 1; }
  show munged munge_ok
  show slurmdbd slurmdbd_ok
  show slurmctld slurmctld_ok
  show slurmd node_ok
  local unix tcp; unix="$(rest_code unix)"; tcp="$(rest_code tcp)"
  if pid="$(pid_of slurmrestd)"; then
    printf 'slurmrestd  %-4s (pid %s, user %s)\n' "$([ "$unix" = 200 ] && echo up || echo down)" "$pid" \
      "$(inr getent passwd "$(ps -o uid= -p "$pid" | tr -d ' ')" | cut -d: -f1)"
  else
    echo "slurmrestd  down"
  fi
  echo "REST unix   $unix  (unix://$SOCK, GET /slurmdb/v0.0.42/diag with the token)"
  [ -z "$BASE" ] || echo "REST tcp    $tcp  ($BASE)"
  [ "$unix" = 200 ] && [[ "$tcp" == 200 || "$tcp" == off ]] || bad=1
  return "$bad"
}

# ---- reset-accounts PREFIX ----------------------------------------------------------------------

cmd_reset_accounts() {
  local prefix="${1:-}"
  [ -n "$prefix" ] || die "usage: $0 reset-accounts PREFIX"
  [ "$prefix" != root ] || die "refusing to delete root"
  need_root reset-accounts
  slurmdbd_ok || die "slurmdbd does not answer: run $0 up first"
  local accounts=() a
  while IFS= read -r a; do
    [[ -n "$a" && "$a" == "$prefix"* && "$a" != root ]] && accounts+=("$a")
  done < <(inr timeout 20 sacctmgr -n -P show account format=account)
  # The QOS Hatchery makes per startup carry the startup's account name (prefix) too.
  local qos=() q
  while IFS= read -r q; do
    [[ -n "$q" && "$q" == "$prefix"* && "$q" != normal ]] && qos+=("$q")
  done < <(inr timeout 20 sacctmgr -n -P show qos format=name)
  if [ ${#accounts[@]} -eq 0 ] && [ ${#qos[@]} -eq 0 ]; then log "no account or QOS starts with $prefix"; return 0; fi

  if [ ${#accounts[@]} -gt 0 ]; then
    local list; list="$(IFS=,; echo "${accounts[*]}")"
    # Active jobs block the deletion of their account. (scancel -A takes one account only.)
    local jobs
    jobs="$(slurmctld_ok && inr timeout 10 squeue -h -A "$list" -o %A 2> /dev/null | tr '\n' ' ')" || true
    if [ -n "${jobs// /}" ]; then
      log "cancelling jobs $jobs"
      # shellcheck disable=SC2086
      inr scancel $jobs 2> /dev/null || true
      wait_for 30 bash -c '[ -z "$(env -u SLURM_CONF chroot "$1" squeue -h -A "$2" -o %A)" ]' _ "$ROOT" "$list" \
        || warn "jobs of $list are still active"
    fi
    # Users made by tests have associations under these accounts only: they are deleted. Others
    # only lose those associations, and get a default account among the ones they keep.
    local users=() u others def
    while IFS= read -r u; do
      [ -n "$u" ] || continue
      others="$(inr timeout 20 sacctmgr -n -P show assoc user="$u" format=account \
        | grep -vxF -f <(printf '%s\n' "${accounts[@]}") | sort -u || true)"
      if [ -z "$others" ]; then users+=("$u"); continue; fi
      def="$(inr timeout 20 sacctmgr -n -P show user "$u" format=defaultaccount)"
      if printf '%s\n' "${accounts[@]}" | grep -qxF -- "$def"; then
        inr timeout 20 sacctmgr -i modify user name="$u" set defaultaccount="$(head -n1 <<< "$others")" > /dev/null
      fi
      log "removing user $u from $list"
      inr timeout 20 sacctmgr -i delete user name="$u" account="$list" > /dev/null
    done < <(inr timeout 20 sacctmgr -n -P show assoc account="$list" format=user | sort -u)
    if [ ${#users[@]} -gt 0 ]; then
      log "deleting users ${users[*]}"
      inr timeout 20 sacctmgr -i delete user name="$(IFS=,; echo "${users[*]}")" > /dev/null
    fi
    log "deleting accounts ${accounts[*]}"
    inr timeout 20 sacctmgr -i delete account name="$list" > /dev/null
    # Job records outlive their account: GET /slurmdb/v0.0.42/jobs?account=NAME would still list
    # the jobs of a deleted account of the same name. Purge the finished ones from the database.
    local in
    in="$(printf "'%s'," "${accounts[@]//\'/\'\'}")"; in="${in%,}"
    db_slurm <<SQL || warn "could not purge the job records of $list"
DELETE s FROM ${CLUSTER}_step_table s JOIN ${CLUSTER}_job_table j USING (job_db_inx)
  WHERE j.account IN ($in) AND j.time_end > 0;
DELETE s FROM ${CLUSTER}_suspend_table s JOIN ${CLUSTER}_job_table j USING (job_db_inx)
  WHERE j.account IN ($in) AND j.time_end > 0;
DELETE FROM ${CLUSTER}_job_table WHERE account IN ($in) AND time_end > 0;
SQL
  fi
  if [ ${#qos[@]} -gt 0 ]; then
    log "deleting QOS ${qos[*]}"
    inr timeout 20 sacctmgr -i delete qos name="$(IFS=,; echo "${qos[*]}")" > /dev/null
  fi
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  purge) need_root purge; cmd_purge ;;
  status) cmd_status ;;
  env) print_env ;;
  token) need_root token; new_token "${2:-$TOKEN_USER}" "${3:-86400}" ;;
  reset-accounts) shift; cmd_reset_accounts "$@" ;;
  rest-stop) need_root rest-stop; [ ! -d "$PIDS" ] || stop_group slurmrestd; rm -f "$SOCK" ;;
  rest-start) need_root rest-start; ensure_rest ;;
  *) echo "usage: $0 up|down|status|env|token [USER [SECS]]|purge|reset-accounts PREFIX|rest-stop|rest-start" >&2; exit 2 ;;
esac
