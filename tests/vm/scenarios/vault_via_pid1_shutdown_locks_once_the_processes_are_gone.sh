# A `docker stop` must never leave the vault's key in the kernel, even when
# the shutdown's first step, the lock, cannot finish: a container whose
# PID 1 exits with the vault unlocked leaves its mapping, key and all, on
# the host until the host reboots. Two such stops, each in a "container"
# (crash-lib.sh: PID 1 of its own PID and mount namespaces):
#   1. A hold the lock may not end: root's descriptor of a vault file, in
#      flight on a Unix socket (the last resort ends the user's processes
#      only). The lock fails "still in use"; the SIGTERM to every process
#      then ends the holder.
#   2. A lock that outlasts the grace period: a user's process ignores
#      SIGTERM, and holder_grace is longer than the grace period. The step
#      is abandoned, and the SIGTERM to every process ends its helper
#      half-way.
# Either way, once every other process is gone, init locks again: nothing
# is attached when it exits, and its exit code says a step failed.
# timeout: 300
# weight: 27
. /usr/lib/tazpod-test/crash-lib.sh
crash_setup

# stop_expecting_final_lock WHAT: a clean stop (SIGTERM to PID 1) after
# which nothing may be attached, the lock having been made again at the end.
stop_expecting_final_lock() {
  local rc=0
  kill -TERM "$INIT_PID"
  wait "$CRASH_UNSHARE" || rc=$?
  cat "$CRASH_LOG"
  expect_eq "$rc" 3 "$1: init's exit code (a shutdown step failed)"
  has_line_matching "$CRASH_LOG" 'init.shutdown.step.failed step=vault.lock' ||
    fail "$1: the shutdown's first lock did not fail, so this stop tests nothing"
  has_line_matching "$CRASH_LOG" 'init.shutdown.final.done step=vault.lock' ||
    fail "$1: no lock once the processes were gone"
  expect_eq "$(vault_attached in_live_container_vault)" "mapping=no loop=no mount=no" "$1: attached after the stop"
}

# 1. Root's descriptor in flight.
crash_start
ctr_unlock
in_vault /usr/lib/tazpod-test/inflight "$VAULT_MNT/in-flight.txt" 2>inflight.err &
sender=$!
wait_until 60 grep -q 'in flight' inflight.err || fail "the descriptor was not sent: $(cat inflight.err)"
stop_expecting_final_lock "a hold only the shutdown's SIGTERM ends"
wait "$sender" 2>/dev/null || true

# 2. A lock longer than the grace period.
sed -i 's/^grace_period = .*/grace_period = "1s"/; s/^holder_grace = .*/holder_grace = "3s"/' init.toml
crash_start
ctr_unlock
# shellcheck disable=SC2016  # $1 is the inner shell's argument
in_vault setpriv --reuid=1000 --regid=1000 --clear-groups \
  bash -c 'trap "" TERM; cd "$1" && : > holder.ready && exec sleep 1000' _ "$VAULT_MNT" &
holder=$!
wait_until 60 in_vault test -e "$VAULT_MNT/holder.ready" || fail "the user's process did not start working in the vault"
stop_expecting_final_lock "a lock longer than the grace period"
has_line_matching "$CRASH_LOG" 'init.shutdown.step.failed step=vault.lock error="grace period exceeded"' ||
  fail "the first lock was not abandoned at the end of the grace period"
wait "$holder" 2>/dev/null || true

trap - EXIT
umount "$CRASH_VOLUME"
