#!/usr/bin/env bash
# A real single-node Slurm 22.05 (Debian 12) with slurmrestd, for the tests that sync GPU-credit
# grants to Slurm. Idempotent; run as root; needs no systemd and no terminal.
#
#   scripts/slurm.sh up                    install what is missing, start what is not running
#   scripts/slurm.sh down                  stop exactly what `up` started (nothing else)
#   scripts/slurm.sh status                which daemons answer, and whether the REST API does
#   scripts/slurm.sh reset-accounts PREFIX delete the accounts named PREFIX* and their test users
#
# Everything lives in $HATCHERY_SLURM_DIR (default /run/hatchery-slurm): the configuration
# (etc/slurm.conf, gres.conf, slurmdbd.conf: /etc/slurm is left alone), state, logs, the fake
# GPU device files and the PIDs of the processes this script started. Client commands
# (sbatch, sacctmgr, …) find the cluster with SLURM_CONF=$HATCHERY_SLURM_DIR/etc/slurm.conf.
# The REST API is bridged to http://127.0.0.1:${HATCHERY_SLURM_PORT:-6820}; the cluster is `ci`.
# See scripts/slurm-notes.md for measured timings, JSON shapes and quirks.
set -euo pipefail

STATE="${HATCHERY_SLURM_DIR:-/run/hatchery-slurm}"
PORT="${HATCHERY_SLURM_PORT:-6820}"
DB_PASS="${HATCHERY_SLURM_DB_PASS:-hatchery-slurm-ci}"
CLUSTER=ci
NODE=ci-node
GPUS=4
ETC="$STATE/etc"
PIDS="$STATE/pids"
LOGS="$STATE/log"
SOCK="$STATE/rest/slurmrestd.socket"
BASE="http://127.0.0.1:$PORT"
export SLURM_CONF="$ETC/slurm.conf"
PACKAGES=(slurmctld slurmd slurmdbd slurmrestd slurm-client munge mariadb-server socat curl)

log() { printf '\033[1;32m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m==>\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31m==>\033[0m %s\n' "$*" >&2; exit 1; }

need_root() { [ "$(id -u)" -eq 0 ] || die "run as root: sudo $0 $*"; }

# ---- processes this script started: $PIDS/NAME.pid holds "PID TOKEN" --------------------------
# TOKEN must occur in /proc/PID/cmdline and the process must run in this machine's root (not in
# a chroot such as scripts/slurm-2411.sh's Slurm 24.11, whose daemons have the same names), so
# neither a recycled PID nor the other cluster's process is mistaken for ours. No process is
# ever matched by its name alone.

in_host_root() { [ "$(readlink "/proc/$1/root" 2> /dev/null)" = / ]; }

host_pids() { # NAME → PIDs of the processes named exactly NAME in this machine's root
  local p
  for p in $(pgrep -x "$1" || true); do in_host_root "$p" && echo "$p"; done
  return 0
}

pid_of() { # NAME → PID of the live process we started, or nothing (status 1)
  local f="$PIDS/$1.pid" pid token
  [ -f "$f" ] || return 1
  read -r pid token < "$f" || return 1
  [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$token" || return 1
  in_host_root "$pid" || return 1
  echo "$pid"
}

# start_bg NAME TOKEN CMD…: runs CMD in a session of its own (so `down` can stop the whole
# process group), detached from our stdin/stdout, and records its PID.
start_bg() {
  local name="$1" token="$2"; shift 2
  setsid "$@" < /dev/null >> "$LOGS/$name.out" 2>&1 &
  echo "$! $token" > "$PIDS/$name.pid"
}

stop_group() { # NAME…: stops (in parallel) the process groups of the NAMEs we started
  local name pid pids=()
  for name in "$@"; do
    if pid="$(pid_of "$name")"; then
      log "stopping $name (pid $pid)"
      kill -TERM -- "-$pid" 2> /dev/null || kill -TERM "$pid" 2> /dev/null || true
      pids+=("$pid")
    fi
    rm -f "$PIDS/$name.pid"
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  local alive
  for _ in $(seq 1 150); do # 15 s at most
    alive=0
    for pid in "${pids[@]}"; do [ -d "/proc/$pid" ] && alive=1; done
    [ "$alive" -eq 1 ] || return 0
    sleep 0.1
  done
  for pid in "${pids[@]}"; do
    if [ -d "/proc/$pid" ]; then
      warn "pid $pid did not stop within 15 s: killing it"
      kill -KILL -- "-$pid" 2> /dev/null || kill -KILL "$pid" 2> /dev/null || true
    fi
  done
}

wait_for() { # SECONDS DESCRIPTION CMD…: polls CMD every 0.25 s
  local secs="$1" what="$2"; shift 2
  local end=$(( $(date +%s) + secs ))
  until "$@" > /dev/null 2>&1; do
    [ "$(date +%s)" -lt "$end" ] || return 1
    sleep 0.25
  done
}

tail_log() { [ -f "$LOGS/$1" ] && { warn "last lines of $LOGS/$1:"; tail -n 25 "$LOGS/$1" >&2; }; return 0; }

# ---- health checks (quiet; status 0 = healthy) ------------------------------------------------

munge_ok() { munge -n 2>/dev/null | unmunge > /dev/null 2>&1; }
mariadb_ok() { mariadb-admin --connect-timeout=2 ping > /dev/null 2>&1; }
slurmdbd_ok() { timeout 10 sacctmgr -n show cluster > /dev/null 2>&1; }
cluster_ok() { timeout 10 sacctmgr -n -P show cluster format=cluster 2>/dev/null | grep -qx "$CLUSTER"; }
slurmctld_ok() { timeout 10 scontrol ping 2>/dev/null | grep -q 'is UP'; }
slurmd_running() { pid_of slurmd > /dev/null || [ -n "$(host_pids slurmd)" ]; }
no_steps() { [ -z "$(host_pids slurmstepd)" ]; }
node_state() { timeout 10 sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n1; }
node_ok() { case "$(node_state)" in idle|mixed|allocated|completing|planned) return 0;; *) return 1;; esac; }
rest_ok() { curl -s --max-time 5 "$BASE/slurmdb/v0.0.38/associations" 2>/dev/null | grep -q '"associations"'; }
socat_ok() { (exec 3<> "/dev/tcp/127.0.0.1/$PORT") 2> /dev/null; }

# ---- up ---------------------------------------------------------------------------------------

ensure_packages() {
  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do dpkg -s "$pkg" > /dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq || apt-get update -qq
  # A busy machine can fail an install once ("rename failed"): try again.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null \
    || apt-get install -y -qq --no-install-recommends "${missing[@]}" > /dev/null
}

ensure_dirs() {
  mkdir -p "$STATE" "$ETC" "$PIDS" "$LOGS" "$STATE/ctld" "$STATE/spool" "$STATE/run" "$STATE/rest" "$STATE/dev"
  chmod 755 "$STATE" "$ETC"
  chmod 700 "$PIDS"
  chown slurm:slurm "$LOGS" "$STATE/ctld" "$STATE/run" "$STATE/rest"
  chmod 755 "$LOGS" "$STATE/rest"
}

write_if_changed() { # FILE MODE OWNER: stdin → FILE, rewritten only when the text differs
  local file="$1" mode="$2" owner="$3" tmp
  tmp="$(mktemp "$file.XXXXXX")"
  cat > "$tmp"
  if [ -f "$file" ] && cmp -s "$tmp" "$file"; then rm -f "$tmp"; return 0; fi
  chmod "$mode" "$tmp"; chown "$owner" "$tmp"; mv -f "$tmp" "$file"
}

write_configs() {
  # The node's real layout, or slurmd registers it INVALID (e.g. more CPUs than it has).
  local hw
  hw="$(slurmd -C | head -n1 | tr ' ' '\n' \
    | grep -E '^(CPUs|Boards|SocketsPerBoard|CoresPerSocket|ThreadsPerCore)=' | tr '\n' ' ')"
  write_if_changed "$ETC/slurm.conf" 644 root:root <<EOF
# Written by hatchery scripts/slurm.sh: a single node with $GPUS fake GPUs, for tests.
ClusterName=$CLUSTER
SlurmctldHost=localhost
SlurmUser=slurm
AuthType=auth/munge
CredType=cred/munge
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
AccountingStorageTRES=gres/gpu
AccountingStorageEnforce=associations,limits,safe
JobCompType=jobcomp/none
MailProg=/bin/true
PriorityType=priority/multifactor
# Used GPU-minutes never decay: GrpTRESMins is a lifetime cap.
PriorityDecayHalfLife=0
PriorityUsageResetPeriod=NONE
PriorityCalcPeriod=1
MinJobAge=300
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$LOGS/slurmctld.log
SlurmdLogFile=$LOGS/slurmd.log
NodeName=$NODE NodeAddr=127.0.0.1 ${hw}RealMemory=1000 Gres=gpu:$GPUS State=UNKNOWN
# AccountingStorageEnforce=safe starts a job only if its whole time limit fits in what is left
# of GrpTRESMins: without a limit of its own (sbatch -t) a job would then pend forever.
PartitionName=debug Nodes=$NODE Default=YES DefaultTime=10 MaxTime=INFINITE State=UP
EOF
  write_if_changed "$ETC/gres.conf" 644 root:root <<EOF
AutoDetect=off
Name=gpu File=$STATE/dev/gpu[0-$((GPUS - 1))]
EOF
  write_if_changed "$ETC/slurmdbd.conf" 600 slurm:slurm <<EOF
AuthType=auth/munge
DbdHost=localhost
SlurmUser=slurm
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageLoc=slurm_acct_db
StorageUser=slurm
StoragePass=$DB_PASS
PidFile=$STATE/run/slurmdbd.pid
LogFile=$LOGS/slurmdbd.log
EOF
  # plugstack.conf is read next to slurm.conf: an empty one keeps /etc/slurm's out of our way.
  [ -f "$ETC/plugstack.conf" ] || : > "$ETC/plugstack.conf"
  local i
  for i in $(seq 0 $((GPUS - 1))); do
    [ -c "$STATE/dev/gpu$i" ] || mknod -m 666 "$STATE/dev/gpu$i" c 1 3
  done
}

ensure_munge() {
  munge_ok && return 0
  if [ ! -s /etc/munge/munge.key ]; then
    log "creating the munge key"
    mkdir -p /etc/munge
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 700 /etc/munge; chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/log/munge /var/lib/munge
  chown munge:munge /run/munge /var/log/munge /var/lib/munge
  chmod 755 /run/munge
  rm -f /run/munge/munge.socket.2 /run/munge/munge.socket.2.lock /run/munge/munged.pid
  log "starting munged"
  start_bg munged munged setpriv --reuid=munge --regid=munge --init-groups /usr/sbin/munged -F
  wait_for 15 munged munge_ok || { tail_log munged.out; die "munged does not answer"; }
}

ensure_mariadb() {
  if ! mariadb_ok; then
    if [ -n "$(host_pids mariadbd)$(host_pids mysqld)" ]; then
      log "waiting for the MariaDB that is starting"
    else
      mkdir -p /run/mysqld; chown mysql:mysql /run/mysqld
      if [ ! -d /var/lib/mysql/mysql ]; then
        log "initialising MariaDB's data directory"
        mariadb-install-db --user=mysql > "$LOGS/mariadb-install.out" 2>&1
      fi
      log "starting MariaDB"
      start_bg mariadb mariadbd /usr/sbin/mariadbd --user=mysql
    fi
    wait_for 60 mariadb mariadb_ok || { tail_log mariadb.out; die "MariaDB does not answer"; }
  fi
  # Already set up (by an earlier run): nothing to do, and no need for MariaDB's root.
  MYSQL_PWD="$DB_PASS" mariadb -uslurm slurm_acct_db -e 'SELECT 1' > /dev/null 2>&1 && return 0
  log "creating the database slurm_acct_db and its user slurm"
  mariadb -uroot <<SQL || die "cannot set up slurm_acct_db as MariaDB's root (unix-socket login as root is expected)"
CREATE DATABASE IF NOT EXISTS slurm_acct_db;
CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
ALTER USER 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';
SQL
}

ensure_slurmdbd() {
  cluster_ok && return 0
  if ! slurmdbd_ok; then
    ensure_mariadb
    pid_of slurmdbd > /dev/null || {
      log "starting slurmdbd"
      # 22.05's slurmdbd exits (fatal) when MariaDB reports a deadlock or a lock wait timeout
      # under concurrent writes; like systemd's Restart=on-failure, a loop starts it again.
      start_bg slurmdbd hatchery-slurmdbd-loop bash -c '
        while :; do
          /usr/sbin/slurmdbd -D
          echo "slurmdbd exited with status $? at $(date -Is); starting it again"
          sleep 1
        done' hatchery-slurmdbd-loop
    }
    wait_for 40 slurmdbd slurmdbd_ok || { tail_log slurmdbd.log; tail_log slurmdbd.out; die "slurmdbd does not answer"; }
  fi
  if ! cluster_ok; then
    log "adding cluster $CLUSTER to the accounting database"
    timeout 20 sacctmgr -i add cluster "$CLUSTER" > /dev/null
  fi
}

ensure_slurmctld() {
  slurmctld_ok && return 0
  pid_of slurmctld > /dev/null || {
    log "starting slurmctld"
    start_bg slurmctld slurmctld /usr/sbin/slurmctld -D -f "$SLURM_CONF"
  }
  wait_for 40 slurmctld slurmctld_ok || { tail_log slurmctld.log; tail_log slurmctld.out; die "slurmctld does not answer"; }
}

ensure_slurmd() {
  if ! slurmd_running; then
    log "starting slurmd -N $NODE"
    start_bg slurmd slurmd /usr/sbin/slurmd -D -N "$NODE" -f "$SLURM_CONF"
  fi
  local end=$(( $(date +%s) + 40 )) resumed=0 state
  until node_ok; do
    state="$(node_state)"
    if [ "$resumed" -eq 0 ] && [[ "$state" == drain* || "$state" == down* ]] && slurmd_running \
       && [ "$(date +%s)" -gt $(( end - 30 )) ]; then
      warn "node $NODE is $state: resuming it"
      scontrol update nodename="$NODE" state=resume 2> /dev/null || true
      resumed=1
    fi
    if [ "$(date +%s)" -ge "$end" ]; then
      scontrol show node "$NODE" >&2 || true
      tail_log slurmd.log; tail_log slurmd.out
      die "node $NODE is not idle (state: ${state:-unknown})"
    fi
    sleep 0.25
  done
}

ensure_rest() {
  rest_ok && return 0
  if ! pid_of slurmrestd > /dev/null; then
    log "starting slurmrestd (as user slurm, on $SOCK)"
    # 22.05's slurmrestd can segfault on some requests: a loop starts it again.
    start_bg slurmrestd hatchery-slurmrestd-loop bash -c '
      while :; do
        rm -f "$1"
        setpriv --reuid=slurm --regid=slurm --init-groups /usr/sbin/slurmrestd \
          -a rest_auth/local -s openapi/v0.0.38,openapi/dbv0.0.38 "unix:$1"
        echo "slurmrestd exited with status $? at $(date -Is); starting it again"
        sleep 1
      done' hatchery-slurmrestd-loop "$SOCK"
  fi
  if ! socat_ok; then
    log "bridging 127.0.0.1:$PORT to the slurmrestd socket (socat)"
    start_bg socat "TCP-LISTEN:$PORT" socat "TCP-LISTEN:$PORT,bind=127.0.0.1,fork,reuseaddr" "UNIX-CONNECT:$SOCK"
  elif ! pid_of socat > /dev/null; then
    warn "port $PORT is taken by a process this script did not start"
  fi
  wait_for 30 slurmrestd rest_ok || { tail_log slurmrestd.out; tail_log socat.out; die "slurmrestd does not answer on $BASE"; }
}

cmd_up() {
  need_root up
  local t0="$EPOCHREALTIME"
  ensure_packages
  ensure_dirs
  write_configs
  ensure_munge
  ensure_slurmdbd
  ensure_slurmctld
  ensure_slurmd
  ensure_rest
  log "Slurm is up ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }') s)"
  cat <<EOF
HATCHERY_SLURM_URL=$BASE
HATCHERY_SLURM_CLUSTER=$CLUSTER
SLURM_CONF=$SLURM_CONF
EOF
}

# ---- down -------------------------------------------------------------------------------------

cmd_down() {
  need_root down
  [ -d "$PIDS" ] || { log "nothing to stop"; return 0; }
  local had_slurmd=0
  if pid_of slurmd > /dev/null; then
    had_slurmd=1
    # Job steps outlive slurmd: cancel the jobs on our node and let their steps end first.
    if slurmctld_ok; then
      local jobs
      jobs="$(timeout 10 squeue -h -w "$NODE" -o %A 2> /dev/null | tr '\n' ' ')" || true
      if [ -n "${jobs// /}" ]; then
        log "cancelling jobs on $NODE: $jobs"
        # shellcheck disable=SC2086
        scancel $jobs 2> /dev/null || true
        wait_for 15 "job steps" no_steps || warn "job steps still running"
      fi
    fi
  fi
  stop_group socat slurmrestd slurmd
  rm -f "$SOCK"
  # Only our slurmd may run in this machine's root (up starts none beside another), so the
  # steps there are ours; those of the 24.11 chroot are not touched.
  if [ "$had_slurmd" -eq 1 ]; then
    local step
    for step in $(host_pids slurmstepd); do kill -KILL "$step" 2> /dev/null || true; done
  fi
  stop_group slurmctld            # saves its state and flushes to slurmdbd: needs munge and slurmdbd
  stop_group slurmdbd munged
  stop_group mariadb
  log "Slurm is down (what this script started)"
}

# ---- status -----------------------------------------------------------------------------------

cmd_status() {
  local name pid ok
  show() { # NAME CHECK…
    local name="$1"; shift
    if "$@"; then ok=up; else ok=down; fi
    if pid="$(pid_of "$name")"; then
      printf '%-11s %-4s (pid %s, started by this script)\n' "$name" "$ok" "$pid"
    else
      printf '%-11s %-4s\n' "$name" "$ok"
    fi
  }
  show munged munge_ok
  show mariadb mariadb_ok
  show slurmdbd slurmdbd_ok
  show slurmctld slurmctld_ok
  show slurmd node_ok
  show slurmrestd test -S "$SOCK"
  show socat socat_ok
  local body
  body="$(curl -s --max-time 5 "$BASE/slurmdb/v0.0.38/associations" 2> /dev/null || true)"
  if printf '%s' "$body" | grep -q '"associations"'; then
    echo "REST        up   ($BASE/slurmdb/v0.0.38/associations answers JSON)"
  else
    echo "REST        down ($BASE/slurmdb/v0.0.38/associations does not answer JSON)"
    return 1
  fi
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
  done < <(timeout 20 sacctmgr -n -P show account format=account)
  [ ${#accounts[@]} -gt 0 ] || { log "no account starts with $prefix"; return 0; }
  local list; list="$(IFS=,; echo "${accounts[*]}")"

  # Active jobs block the deletion of their account. (scancel -A takes one account only.)
  local jobs
  jobs="$(slurmctld_ok && timeout 10 squeue -h -A "$list" -o %A 2> /dev/null | tr '\n' ' ')" || true
  if [ -n "${jobs// /}" ]; then
    log "cancelling jobs $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2> /dev/null || true
    wait_for 30 "jobs to end" bash -c '[ -z "$(squeue -h -A "$1" -o %A)" ]' _ "$list" \
      || warn "jobs of $list are still active"
  fi

  # Users made by tests have associations under these accounts only: they are deleted. Others
  # only lose those associations, and get a default account among the ones they keep.
  local users=() u others def
  while IFS= read -r u; do
    [ -n "$u" ] || continue
    others="$(timeout 20 sacctmgr -n -P show assoc user="$u" format=account \
      | grep -vxF -f <(printf '%s\n' "${accounts[@]}") | sort -u || true)"
    if [ -z "$others" ]; then users+=("$u"); continue; fi
    def="$(timeout 20 sacctmgr -n -P show user "$u" format=defaultaccount)"
    if printf '%s\n' "${accounts[@]}" | grep -qxF -- "$def"; then
      timeout 20 sacctmgr -i modify user name="$u" set defaultaccount="$(head -n1 <<< "$others")" > /dev/null
    fi
    log "removing user $u from $list"
    timeout 20 sacctmgr -i delete user name="$u" account="$list" > /dev/null
  done < <(timeout 20 sacctmgr -n -P show assoc account="$list" format=user | sort -u)
  if [ ${#users[@]} -gt 0 ]; then
    log "deleting users ${users[*]}"
    timeout 20 sacctmgr -i delete user name="$(IFS=,; echo "${users[*]}")" > /dev/null
  fi
  log "deleting accounts ${accounts[*]}"
  timeout 20 sacctmgr -i delete account name="$list" > /dev/null

  # Job records outlive their account: GET /slurmdb/v0.0.38/jobs?account=NAME would still list
  # the jobs of a deleted account of the same name. Purge the finished ones from the database.
  local in
  in="$(printf "'%s'," "${accounts[@]//\'/\'\'}")"; in="${in%,}"
  MYSQL_PWD="$DB_PASS" mariadb -uslurm slurm_acct_db <<SQL || warn "could not purge the job records of $list"
DELETE s FROM ${CLUSTER}_step_table s JOIN ${CLUSTER}_job_table j USING (job_db_inx)
  WHERE j.account IN ($in) AND j.time_end > 0;
DELETE s FROM ${CLUSTER}_suspend_table s JOIN ${CLUSTER}_job_table j USING (job_db_inx)
  WHERE j.account IN ($in) AND j.time_end > 0;
DELETE FROM ${CLUSTER}_job_table WHERE account IN ($in) AND time_end > 0;
SQL
}

case "${1:-}" in
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  reset-accounts) shift; cmd_reset_accounts "$@" ;;
  *) echo "usage: $0 up|down|status|reset-accounts PREFIX" >&2; exit 2 ;;
esac
