# Helpers for vm scenarios, sourced before each scenario runs (in the guest).
# Scenarios run under `set -euo pipefail`: any failing command fails the
# scenario. Use these to say what was expected when a check fails.

fail() { echo "FAIL: $*" >&2; exit 1; }

# clock_now, clock_before, clock_tenths: deadlines and durations on a clock
# that is never stepped (copied beside this file into the guest).
. "${BASH_SOURCE[0]%/*}/clock.sh"

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  [[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"
}

# expect_fails WHAT CMD...: CMD must exit non-zero; prints its status.
expect_fails() {
  local what=$1 rc=0
  shift
  "$@" || rc=$?
  [[ $rc -ne 0 ]] || fail "$what: '$*' succeeded but must fail"
  echo "$what: refused as expected (exit $rc)"
  return 0
}

# Cheap LUKS2 settings for tests: PBKDF benchmarking dominates under software
# emulation, so iterations are forced and the keyslot area is small.
# shellcheck disable=SC2034  # used by the scenarios that source this file
LUKS_TEST_OPTS=(--type luks2 --pbkdf argon2id --pbkdf-force-iterations 4
                --pbkdf-memory 1024 --pbkdf-parallel 1
                --luks2-metadata-size 16k --luks2-keyslots-size 512k)

# make_passfile PATH TEXT: a key file without a trailing newline.
make_passfile() { printf '%s' "$2" > "$1"; chmod 0600 "$1"; }

# dm_target NAME: the device-mapper target type of mapping NAME, as the
# kernel reports it (e.g. "crypt").
dm_target() { dmsetup table "$1" | awk '{print $3}'; }

# The vault helper with cheap test settings. Scenarios may change these
# before calling `vault`: two scenarios never share a name or a mountpoint.
VAULT_HELPER=/usr/libexec/tazpod/tazpod-vault-helper
VAULT_NAME=tazpod-test-vault
VAULT_ENCLAVE=/run/tazpod/enclave
VAULT_MNT=/home/dev/secrets
VAULT_MODE_ARGS=(--mode ram --enclave-size $((64 << 20)))

# The helper's options for this scenario's vault, in VAULT_ARGS.
vault_args() {
  VAULT_ARGS=(--name "$VAULT_NAME" --enclave "$VAULT_ENCLAVE" --mountpoint "$VAULT_MNT"
              --owner 1000:1000 --pbkdf-iterations 4 --pbkdf-memory 1024 --pbkdf-parallel 1
              --luks2-keyslots-size 524288 --holder-grace-ms 1000 "${VAULT_MODE_ARGS[@]}")
}

# vault_args_with_argon2_memory KIB: like vault_args, with argon2's memory
# cost KIB instead of the cheap one, in VAULT_ARGS.
vault_args_with_argon2_memory() {
  vault_args
  local i
  for (( i = 0; i < ${#VAULT_ARGS[@]}; i++ )); do
    if [[ ${VAULT_ARGS[i]} == --pbkdf-memory ]]; then VAULT_ARGS[i + 1]=$1; fi
  done
}

# memory_cgroups NAME BYTES [NAME BYTES...]: cgroup v2 directories
# /sys/fs/cgroup/NAME with memory.max BYTES (cgroup2 mounted there first if
# need be), removed with that mount when the scenario exits.
memory_cgroups() {
  local root=/sys/fs/cgroup
  mounted_here "$root" || mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "$root"
  echo +memory > "$root/cgroup.subtree_control"
  MEMORY_CGROUPS=()
  while (( $# >= 2 )); do
    mkdir "$root/$1"
    echo "$2" > "$root/$1/memory.max"
    MEMORY_CGROUPS+=("$root/$1")
    shift 2
  done
  trap remove_memory_cgroups EXIT
}
remove_memory_cgroups() {
  rmdir "${MEMORY_CGROUPS[@]}" 2>/dev/null || true
  umount /sys/fs/cgroup 2>/dev/null || true
}

# in_memory_cgroup NAME CMD...: runs CMD in /sys/fs/cgroup/NAME.
in_memory_cgroup() {
  # shellcheck disable=SC2016  # expanded by the inner bash
  bash -c 'echo $$ > "/sys/fs/cgroup/$1/cgroup.procs" && exec "${@:2}"' bash "$@"
}

# vault OP [OPTIONS...]: run the helper; the passphrase comes on stdin.
vault() {
  vault_args
  "$VAULT_HELPER" "$1" "${VAULT_ARGS[@]}" "${@:2}"
}

# The test-only helper's crash points (vault/crash_point.h), for a helper
# run here rather than under a container's PID 1 (those: crash-lib.sh).
# helper_crash_arm STEP: the next test helper to reach STEP stops there.
helper_crash_arm() {
  mkdir -p /run/tazpod-crash
  rm -f /run/tazpod-crash/reached
  echo "$1" > /run/tazpod-crash/point
}
# helper_stopped_at STEP [FILE...]: waits up to 60 s until a test helper
# has stopped at STEP (FILEs are shown if none does), disarms it, and sets
# STOPPED_PID to that helper's pid.
helper_stopped_at() {
  local step='' deadline=$(( $(clock_now) + 60 ))
  until [[ -f /run/tazpod-crash/reached ]]; do
    clock_before "$deadline" || fail "no helper reached $1 within 60 s${2:+: $(cat "${@:2}")}"
    nap 0.05
  done
  # shellcheck disable=SC2034  # read by the scenarios
  read -r step STOPPED_PID < /run/tazpod-crash/reached
  rm -f /run/tazpod-crash/point /run/tazpod-crash/reached
  expect_eq "$step" "$1" "the step the helper stopped at"
}

# vault_exec OP [OPTIONS...]: like vault, but the helper replaces the
# calling (sub)shell, so that `(vault_exec unlock <pass) &` makes $! the
# helper itself, for a test that SIGKILLs it.
vault_exec() {
  vault_args
  exec "$VAULT_HELPER" "$1" "${VAULT_ARGS[@]}" "${@:2}"
}

# vault_expect RC OP [OPTIONS...] < passphrase: run and check the exit status.
vault_expect() {
  local want=$1 rc=0 out
  shift
  out=$(vault "$@") || rc=$?
  echo "vault $1: $out (exit $rc)"
  [[ $rc -eq $want ]] || fail "vault $1 exited $rc, expected $want: $out"
}

# Under software emulation every process a check starts costs 20–70 ms of
# CPU (its ld.so runs translated), and the checks below run after every step
# and in every wait loop. So where the kernel's answer is in a file, they
# read it with bash's builtins rather than with losetup, grep or sleep: the
# same facts (losetup reads the same sysfs files), a tenth of the cost.
# Device-mapper devices are still asked of the kernel with dmsetup: one that
# has no table yet is not in sysfs.

# nap SECONDS: sleeps without starting a process: read's timeout on a FIFO
# that nobody writes to.
NAP_FIFO=/run/tazpod-test-nap
nap() {
  [[ -p $NAP_FIFO ]] || mkfifo -m 0600 "$NAP_FIFO" 2>/dev/null || [[ -p $NAP_FIFO ]]
  read -rt "$1" <>"$NAP_FIFO" || true
}

# count_lines_matching FILE REGEX: sets MATCHING to how many lines of FILE
# match the extended REGEX (what `grep -cE` counts); 0 when FILE is absent.
# Above a few hundred lines bash's loop costs more than grep's start.
count_lines_matching() {
  local line lines=()
  MATCHING=0
  mapfile -t lines 2>/dev/null <"$1" || return 0
  if (( ${#lines[@]} > 300 )); then
    MATCHING=$(grep -cE -- "$2" "$1" || true)
    return 0
  fi
  for line in "${lines[@]}"; do
    if [[ $line =~ $2 ]]; then MATCHING=$((MATCHING + 1)); fi
  done
}

# has_line_matching FILE REGEX: FILE has a line matching the extended REGEX.
has_line_matching() {
  count_lines_matching "$1" "$2"
  (( MATCHING > 0 ))
}

# mapping_exists NAME: the kernel has a device-mapper device named NAME.
mapping_exists() { dmsetup info "$1" >/dev/null 2>&1; }

# count_mappings: sets MAPPINGS to how many device-mapper devices the kernel
# has (`dmsetup ls` says "No devices found" when there are none).
count_mappings() {
  local line
  MAPPINGS=0
  while IFS= read -r line; do
    if [[ $line =~ ^[^[:space:]]+[[:space:]]+\( ]]; then MAPPINGS=$((MAPPINGS + 1)); fi
  done < <(dmsetup ls)
}

# count_loops: sets LOOPS to how many loop devices are bound (have a backing
# file), as `losetup -n -O NAME | wc -l` counts them.
count_loops() {
  local f
  LOOPS=0
  for f in /sys/block/loop*/loop/backing_file; do [[ ! -e $f ]] || LOOPS=$((LOOPS + 1)); done
}

# mounted_here PATH: something is mounted on PATH in this mount namespace.
mounted_here() {
  local _ target
  while read -r _ target _; do
    [[ $target != "$1" ]] || return 0
  done </proc/self/mounts
  return 1
}

# vault_attached [RUNNER]: what the kernel has attached for this vault, as
# "mapping loop mount" flags. The mount is looked for here and, through
# RUNNER (default in_vault_ns), where the vault is mounted.
# shellcheck disable=SC2120  # scenarios pass a runner; the library does not
vault_attached() {
  local runner=${1:-in_vault_ns} m=no l=no t=no
  mapping_exists "$VAULT_NAME" && m=yes
  count_loops
  (( LOOPS == 0 )) || l=yes
  mounted_here "$VAULT_MNT" && t=yes
  "$runner" grep -q " $VAULT_MNT " /proc/self/mounts && t=yes
  echo "mapping=$m loop=$l mount=$t"
}

# find_vault_ns: sets VAULT_NS to the path of the private mount namespace
# PID 1 ($INIT_PID) holds by a descriptor (init/mount_namespace.h); empty
# when it holds none. The descriptor found last time is looked at first:
# each look is a readlink process.
find_vault_ns() {
  local fd
  VAULT_NS=''
  [[ -n ${INIT_PID:-} ]] || return 0
  for fd in ${VAULT_NS_FD:+"/proc/$INIT_PID/fd/$VAULT_NS_FD"} /proc/"$INIT_PID"/fd/*; do
    if [[ $(readlink "$fd" 2>/dev/null) == mnt:* ]]; then
      VAULT_NS=$fd VAULT_NS_FD=${fd##*/}
      return 0
    fi
  done
}

# vault_ns: prints VAULT_NS (above).
vault_ns() {
  find_vault_ns
  [[ -z $VAULT_NS ]] || echo "$VAULT_NS"
}

# in_vault_ns CMD...: runs CMD where the vault is mounted: in PID 1's
# private namespace when it has one, else right here.
in_vault_ns() {
  find_vault_ns
  if [[ -n $VAULT_NS ]]; then nsenter --mount="$VAULT_NS" "$@"; else "$@"; fi
}

# ungated CMD...: runs CMD the way `docker exec` would: in the mount
# namespace of PID 1 ($INIT_PID) itself, without the gate.
ungated() { nsenter --target "$INIT_PID" --mount "$@"; }

# The RAM enclave lives as long as the container; a scenario removes it.
vault_remove_enclave() { umount "$VAULT_ENCLAVE" 2>/dev/null || true; }

# as_dev CMD...: run a command as the workstation user (uid/gid 1000). The
# guest has no PAM, so su is not an option.
as_dev() { setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }
# as_dev_exec CMD...: runs CMD as dev in place of the calling (sub)shell,
# so that `as_dev_exec CMD &` makes $! the command itself (with `as_dev
# CMD &`, $! is a shell of root's that waits for it).
as_dev_exec() { exec setpriv --reuid=1000 --regid=1000 --clear-groups "$@"; }
# runs_as_dev PID COMM: whether PID runs COMM as dev yet.
runs_as_dev() {
  [[ $(cat "/proc/$1/comm" 2>/dev/null) == "$2" ]] && grep -Eq '^Uid:[[:space:]]+1000[[:space:]]' "/proc/$1/status" 2>/dev/null
}
# lock_keeping_stderr [PREFIX...]: locks this scenario's vault (the helper
# run under PREFIX, such as a setpriv that drops a capability), keeps the
# helper's stderr in lock.err, shows both, and fails unless the lock exits
# 0 with nothing left attached.
lock_keeping_stderr() {
  local rc=0 out
  vault_args
  out=$("$@" "$VAULT_HELPER" lock "${VAULT_ARGS[@]}" </dev/null 2>lock.err) || rc=$?
  echo "lock: $out (exit $rc)"
  cat lock.err
  expect_eq "$rc" 0 "lock's exit status"
  expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after lock"
}
# last_resort_pids FILE: the pids the lock's last resort ended, by the
# helper's stderr in FILE, each between spaces (empty if it did not run).
last_resort_pids() {
  local pids
  pids=$(sed -n "s/.*ended the user's processes in its mount namespace://p" "$1")
  [[ -n $pids ]] && echo "$pids "
  return 0
}

# text_hex TEXT: the bytes of TEXT in hex, for ctlpoke (ASCII text).
text_hex() {
  local s=$1 i c out=
  for (( i = 0; i < ${#s}; i++ )); do printf -v c '%02x' "'${s:i:1}"; out+=$c; done
  echo "$out"
}

# write_init_config FILE [EXTRA TOML LINES...]: a configuration for `tazpod
# init` in the guest with the scenario's vault names and cheap PBKDF. The
# extra lines go in [session] (or a table they open); lines for [vault] go
# in INIT_VAULT_LINES.
INIT_VAULT_LINES=()
write_init_config() {
  local file=$1 line
  shift
  cat > "$file" <<TOML
[init]
grace_period = "5s"
log_level = "debug"

[vault]
enclave_dir = "$VAULT_ENCLAVE"
enclave_size = "64M"
mapping_name = "$VAULT_NAME"
pbkdf_iterations = 4
pbkdf_memory_kib = 1024
pbkdf_parallel = 1
luks2_keyslots_size = "512K"
holder_grace = "1s"
helper = "$VAULT_HELPER"
TOML
  for line in "${INIT_VAULT_LINES[@]}"; do echo "$line" >> "$file"; done
  cat >> "$file" <<TOML

[session]
user = "dev"
socket = "/run/tazpod/control.sock"
TOML
  for line in "$@"; do echo "$line" >> "$file"; done
}

# init_sockets: how many sockets PID 1 ($INIT_PID) has open. One process,
# not a readlink for each descriptor (seconds under a loaded emulator):
# scenarios count them to see a connection accepted, then must send their
# request within PID 1's 5 s read deadline.
init_sockets() {
  # shellcheck disable=SC2010  # descriptors are numbers; one ls shows every link's target
  ls -l /proc/"$INIT_PID"/fd | grep -c ' socket:' || true
}

# start_init CONFIG LOG [-- COMMAND...]: starts `tazpod init` in the
# background (INIT_PID) and waits until its vault has recovered and its
# control socket listens.
start_init() {
  local config=$1 log=$2
  shift 2
  tazpod init --config "$config" "$@" 2>"$log" &
  INIT_PID=$!
  wait_log "$log" 'vault.recover.(done|failed)' 60
  wait_log "$log" 'control.listen' 10
}

# wait_log LOG REGEX [SECONDS]
wait_log() {
  local deadline=$(( $(clock_now) + ${3:-30} ))
  until has_line_matching "$1" "$2"; do
    clock_before "$deadline" || fail "no log line matching '$2' within ${3:-30}s:
$(cat "$1")"
    nap 0.1
  done
}

# wait_file PATH SECONDS WHAT [FILE...]: waits until PATH exists (a marker
# another process writes when it has done WHAT); after SECONDS fails naming
# WHAT, with the FILEs' contents (a transcript, a log) for the reader.
wait_file() {
  local deadline=$(( $(clock_now) + $2 ))
  until [[ -e $1 ]]; do
    clock_before "$deadline" || fail "waited $2 s for $3 ($1 never appeared)
$(cat "${@:4}" 2>/dev/null)"
    nap 0.05
  done
}

# wait_until SECONDS CMD...: runs CMD every 0.1 s until it succeeds;
# returns 1 if it still fails after SECONDS, for the caller to say why.
wait_until() {
  local deadline=$(( $(clock_now) + $1 )); shift
  until "$@"; do
    clock_before "$deadline" || return 1
    nap 0.1
  done
}

# write_linger_hook: writes /opt/hooks/linger, an unlock hook that starts
# two children in process groups of their own (`sleep 1003` in the vault,
# `sleep 1004` in /, which even a lock's holder search would miss), writes
# its parent's pid (the helper's) to /tmp/linger-helper.pid, and waits for
# them. With /tmp/release-unlock there it exits at once
# (create_locked_vault's unlock).
write_linger_hook() {
  mkdir -p /opt/hooks
  cat > /opt/hooks/linger <<'SH'
#!/bin/bash
[[ -e /tmp/release-unlock ]] && exit 0
set -m  # job control: each background job leads a process group of its own
(cd "$TAZPOD_VAULT" && exec sleep 1003) &
(cd / && exec sleep 1004) &
echo "$PPID" > /tmp/linger-helper.pid.new  # whole, or not there: the scenario reads it at once
mv /tmp/linger-helper.pid.new /tmp/linger-helper.pid
wait
SH
  chmod 0755 /opt/hooks/linger
  rm -f /tmp/linger-helper.pid /tmp/release-unlock
}

# await_linger_hook FILE...: waits for the linger hook's start (showing
# FILEs if it does not come), sets LINGER_HELPER to the pid of the helper
# running it, and checks that the hook's two children are in its session.
# shellcheck disable=SC2034  # LINGER_HELPER is read by the scenario
await_linger_hook() {
  local members
  wait_file /tmp/linger-helper.pid 60 "the unlock hook's start" "$@"
  LINGER_HELPER=$(</tmp/linger-helper.pid)
  [[ $(cat "/proc/$LINGER_HELPER/comm") == tazpod-vault-* ]] || fail "the hook's parent $LINGER_HELPER is not the helper"
  members=$(in_session "$LINGER_HELPER")
  echo "the helper's session:"; echo "$members"
  expect_eq "$(grep -c ':sleep 100[34]' <<< "$members")" 2 "the hook's children in the helper's session"
}

# in_session SID: the pid and command line of every live process in
# session SID, one per line.
in_session() {
  local p line f
  for p in /proc/[0-9]*; do
    read -r line < "$p/stat" 2>/dev/null || continue
    read -ra f <<< "${line##*) }"
    [[ ${f[3]} == "$1" && ${f[0]} != Z ]] && echo "${p#/proc/}:$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)"
  done
  return 0
}

# session_empty SID: whether no live process is left in session SID (a
# function, so that wait_until looks again each time).
session_empty() { [[ -z $(in_session "$1") ]]; }

# gone PID: whether PID has ended: each of its threads is a zombie, or it
# was reaped. (Not /proc/PID/exe: that goes with the main thread, which
# may exit before the others.)
gone() { ! grep -q '^State:[[:space:]]*[^ZX[:space:]]' /proc/"$1"/task/*/status 2>/dev/null; }

# start_outsider: starts `sleep 1000` as dev in a mount namespace without
# the vault (as an ungated `docker exec` sees the container), for a lock
# to leave alone; sets OUTSIDER to its pid once it sleeps there.
outsider_sleeps() { runs_as_dev "$OUTSIDER" sleep; }
start_outsider() {
  unshare --mount --propagation private sh -c \
    "umount $VAULT_MNT && exec setpriv --reuid=1000 --regid=1000 --clear-groups sleep 1000" &
  OUTSIDER=$!
  wait_until 60 outsider_sleeps || fail "the process outside the vault's namespace did not start"
  grep -q " $VAULT_MNT " "/proc/$OUTSIDER/mountinfo" && fail "the outsider's namespace still mounts the vault"
  return 0
}

# first_login_steps PASSPHRASE: the ptydrive steps of a first login that
# chooses PASSPHRASE (asked twice), for the start of a drive script.
first_login_steps() {
  printf 'expect New vault passphrase:\nsend %s\\r\nexpect Repeat it:\nsend %s\\r' "$1" "$1"
}

# with_held_unlocks CONFIG: every unlock of the vault CONFIG configures
# waits in an unlock hook until /tmp/release-unlock exists (a slow unlock,
# on cue). Removes that file; the scenario creates it to let unlocks end.
with_held_unlocks() {
  mkdir -p /opt/hooks
  printf '#!/bin/sh\nwhile [ ! -e /tmp/release-unlock ]; do sleep 0.1; done\n' > /opt/hooks/hold
  chmod 0755 /opt/hooks/hold
  sed -i '/^\[vault\]$/a unlock_hooks = ["/opt/hooks/hold"]' "$1"
  rm -f /tmp/release-unlock
}

# release_gone_login_unlock LOG: lets through the held unlock (with_held_unlocks)
# of a login that is gone (killed, or left), and checks that PID 1 refused
# the login as gone, opened no session for it, and locked the vault again:
# one lock more than LOG had before.
release_gone_login_unlock() {
  count_lines_matching "$1" 'vault.state from=locking to=locked'
  local locks=$MATCHING
  touch /tmp/release-unlock
  wait_log "$1" 'gate.(refused|accepted)' 60
  grep -q 'gate.refused reason=gone' "$1" || fail "the login that is gone was not refused as gone: $(grep 'gate\.' "$1")"
  grep -q 'session.open' "$1" && fail "a session was registered for the login that is gone: $(grep 'session\.' "$1")"
  wait_log_count "$1" 'vault.state from=locking to=locked' $(( locks + 1 )) 60
}

# create_locked_vault PASSPHRASE: creates the vault as root with
# PASSPHRASE and locks it, so that the next login is asked for it once.
# Under with_held_unlocks, this one unlock is let through and the hold put
# back.
create_locked_vault() {
  local held=''
  if [[ ! -e /tmp/release-unlock ]]; then
    held=yes
    touch /tmp/release-unlock
  fi
  printf '%s\n' "$1" | tazpod vault unlock --passphrase-stdin
  tazpod vault lock
  if [[ -n $held ]]; then rm /tmp/release-unlock; fi
}

# drive SCRIPT_TEXT -- COMMAND...: type into COMMAND on a real PTY (see
# ptydrive.c for the script language); the transcript goes to
# drive.transcript. Sets DRIVE_STATUS.
# shellcheck disable=SC2034  # DRIVE_STATUS is read by the scenario after drive returns
drive() {
  local script=$1
  shift 2
  printf '%s\n' "$script" > drive.script
  DRIVE_STATUS=0
  /usr/lib/tazpod-test/ptydrive drive.script -- "$@" 2> drive.transcript || DRIVE_STATUS=$?
}

# wait_log_count LOG REGEX N [SECONDS]: waits until LOG has N lines matching.
wait_log_count() {
  local deadline=$(( $(clock_now) + ${4:-30} ))
  until count_lines_matching "$1" "$2"; (( MATCHING >= $3 )); do
    clock_before "$deadline" || fail "fewer than $3 log lines matching '$2' within ${4:-30}s:
$(cat "$1")"
    nap 0.1
  done
}

# http_get PATH [PORT]: a plain HTTP/1.0 GET on loopback with bash's
# /dev/tcp (the guest has no curl); prints the status line, headers and body.
http_get() {
  local port=${2:-9090}
  exec 3<>"/dev/tcp/127.0.0.1/$port" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$1" >&3
  timeout 10 cat <&3
  exec 3<&-
}
