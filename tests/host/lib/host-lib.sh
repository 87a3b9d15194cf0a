# Helpers for host-tier tests (sourced). Tests run as root on the build
# machine; $TAZPOD is the freshly built binary.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"; }
: "${TAZPOD:?TAZPOD must name the tazpod binary (set by CTest)}"
# clock_now, clock_before: deadlines on a clock that is never stepped.
. "${BASH_SOURCE[0]%/*}/../../lib/clock.sh"

# start_init_ns LOG ARGS...: starts `tazpod init ARGS...` in the background as
# PID 1 of a fresh PID (and mount, for its own /proc) namespace, its stderr
# in LOG. Sets NS_UNSHARE (the unshare process) and NS_INIT (init's pid as
# seen from here). Returns once init holds its signals (below), or has
# exited. Stopped at exit if still running.
start_init_ns() {
  local log=$1
  shift
  unshare --pid --fork --mount-proc --kill-child "$TAZPOD" init "$@" 2>"$log" &
  NS_UNSHARE=$!
  NS_INIT=
  for _ in $(seq 100); do
    NS_INIT=$(pgrep -P "$NS_UNSHARE" | head -n1) || true
    [[ -n $NS_INIT ]] && break
    sleep 0.05
  done
  [[ -n $NS_INIT ]] || fail "tazpod init did not start (log: $(cat "$log"))"
  trap 'kill -KILL $NS_UNSHARE 2>/dev/null || true' EXIT
  wait_init_holds_signals "$NS_INIT" "$log"
}

# wait_init_holds_signals PID LOG: waits until PID, a namespace's PID 1, is
# tazpod init with SIGTERM blocked, which init does before its first line.
# Until then a signal sent from here is lost, not late: the kernel drops
# any signal a namespace's PID 1 leaves at its default action (unshare's
# child before the exec, init before it blocks them). A test that signals
# sooner races init's start, and loses under load (a sanitizer build) with
# an init that never heard its SIGTERM. Returns early if PID exits.
wait_init_holds_signals() {
  local pid=$1 log=$2 deadline=$(( $(clock_now) + 20 )) blocked
  while [[ -e /proc/$pid ]]; do
    if [[ $(cat "/proc/$pid/comm" 2>/dev/null) != unshare ]]; then
      blocked=$(awk '/^SigBlk:/ {print $2}' "/proc/$pid/status" 2>/dev/null) || true
      [[ -n $blocked ]] && (( 16#$blocked >> 14 & 1 )) && return 0
    fi
    clock_before "$deadline" || fail "tazpod init did not block its signals within 20s; log: $(cat "$log")"
    sleep 0.01
  done
}

# wait_for_log LOG PATTERN [SECONDS]: waits until LOG has a line matching
# PATTERN (grep -E), or fails after SECONDS (default 10).
wait_for_log() {
  local log=$1 pattern=$2 deadline=$(( $(clock_now) + ${3:-10} ))
  until grep -qE "$pattern" "$log"; do
    clock_before "$deadline" || fail "no log line matching '$pattern' within ${3:-10}s; log:
$(cat "$log")"
    sleep 0.05
  done
}

# wait_exit PID: waits for a background job of this shell and sets
# EXIT_STATUS to its exit status. (Not usable in $(...): a subshell cannot
# wait for its parent's jobs.)
# shellcheck disable=SC2034  # read by the tests after wait_exit
wait_exit() { EXIT_STATUS=0; wait "$1" || EXIT_STATUS=$?; }

# zombies_in_ns PID: number of zombie processes in the PID namespace of PID.
zombies_in_ns() {
  # shellcheck disable=SC2016  # expanded by the sh inside the namespace
  nsenter --target "$1" --pid --mount -- sh -c \
    'n=0; for s in /proc/[0-9]*/stat; do st=$(sed "s/.*) //" "$s" 2>/dev/null | cut -d" " -f1); [ "$st" = Z ] && n=$((n+1)); done; echo $n'
}

# helper_on_files: a fresh directory (HELPER_DIR, now the working directory)
# for a persistent vault image, for the tests that run the real vault
# helper without device-mapper; H OP [ARGS...] runs it there, with cheap
# key settings and a time limit.
helper_on_files() {
  : "${TAZPOD_VAULT_HELPER:?}"
  HELPER_DIR=$(mktemp -d)
  cd "$HELPER_DIR" || fail "cannot enter $HELPER_DIR"
}
H() {
  timeout 20 "$TAZPOD_VAULT_HELPER" "$@" --mode persistent --image "$HELPER_DIR/vault.img" --name tazpod-hosttest \
    --mountpoint "$HELPER_DIR/mnt" --pbkdf-iterations 4 --pbkdf-memory 1024 --pbkdf-parallel 1
}
