# The harness's stray check (guest/stray-processes, run after every scenario
# here) names each process a scenario left running, fails, and with --kill
# ends it, so that a scenario that failed half way cannot hand its running
# `tazpod init` (its port, its socket, its vault) to the next one. A
# process already on its way out is no stray; on a guest with nothing left
# the check passes. Without this, a check that saw nothing would let every
# scenario after a failure inherit its processes.
# timeout: 60
# weight: 2
check=/usr/lib/tazpod-test/stray-processes
rc=0; out=$("$check") || rc=$?
expect_eq "$rc $out" "0 " "the check with nothing left running"

sleep 1000 &
sleeper=$!
setsid sleep 1001 &
# One that ignores SIGTERM, in a session of its own, as a stubborn daemon.
setsid bash -c 'trap "" TERM; while :; do sleep 1; done' &
sleep 2 &
ending=$!

rc=0; out=$("$check") || rc=$?
echo "$out"
expect_eq "$rc" 1 "the check's exit status with strays"
grep -qxF "STRAY: process $sleeper (sleep) left running" <<<"$out" || fail "the background sleep was not named"
grep -q '^STRAY: process [0-9]* (bash) left running$' <<<"$out" || fail "the process in its own session was not named"
grep -q "process $ending " <<<"$out" && fail "a process that ended within the grace was named"

rc=0; out=$("$check" --kill) || rc=$?
echo "$out"
expect_eq "$rc" 1 "the check's exit status with --kill"
[[ -e /proc/$sleeper/exe ]] && fail "the background sleep still runs after --kill"
wait "$sleeper" 2>/dev/null || true
rc=0; out=$("$check") || rc=$?
expect_eq "$rc $out" "0 " "the check after --kill"
