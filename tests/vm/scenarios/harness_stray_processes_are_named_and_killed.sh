# The harness's stray check (guest/stray-processes, run after every scenario
# here) names each process a scenario left running, fails, and with --kill
# ends it, and what it started meanwhile, so that a scenario that failed
# half way cannot hand its running `tazpod init` (its port, its socket, its
# vault) to the next one. A process on its way out is no stray; with
# nothing left the check passes (run-scenario's `timeout` watching this
# scenario is the harness, not a stray). Without this, a check that saw
# nothing would let every scenario after a failure inherit its processes.
# timeout: 60
# weight: 15
check=/usr/lib/tazpod-test/stray-processes
rc=0; out=$("$check") || rc=$?
expect_eq "$rc $out" "0 " "the check with nothing left running"

sleep 1000 &
sleeper=$!
setsid sleep 1001 &
session_sleeper=$!
sleep 1 &
ending=$!
# Its main thread exited, another thread runs on: /proc/PID/exe is gone.
/usr/lib/tazpod-test/threadcwd / 2>threadcwd.err &
thread_stray=$!
wait_until 10 grep -q 'thread in' threadcwd.err || fail "threadcwd did not start: $(cat threadcwd.err)"

rc=0; out=$("$check") || rc=$?
echo "$out"
expect_eq "$rc" 1 "the check's exit status with strays"
grep -qxF "STRAY: process $sleeper (sleep) left running" <<<"$out" || fail "the background sleep was not named"
grep -qxF "STRAY: process $session_sleeper (sleep) left running" <<<"$out" || fail "the process in its own session was not named"
grep -qxF "STRAY: process $thread_stray (threadcwd) left running" <<<"$out" ||
  fail "the process whose main thread had exited was not named"
grep -q "process $ending " <<<"$out" && fail "a process that ended within the grace was named"

# A daemon in a session of its own that starts a process while the check
# gives it its grace: killing the daemon orphans that one, which must be
# found and killed too.
setsid bash -c 'sleep 1; sleep 1002 & wait' &
rc=0; out=$("$check" --kill) || rc=$?
echo "$out"
expect_eq "$rc" 1 "the check's exit status with --kill"
grep -qxF "STRAY: process $sleeper (sleep) left running" <<<"$out" || fail "--kill did not name the background sleep"
grep -q '^STRAY: process [0-9]* (sleep) started by a stray$' <<<"$out" ||
  fail "--kill did not name the process the daemon started while it waited"
[[ -e /proc/$sleeper/exe ]] && fail "the background sleep still runs after --kill"
grep -q '^State:[[:space:]]*[RSD]' /proc/"$thread_stray"/task/*/status 2>/dev/null &&
  fail "the thread of the process whose main thread had exited still runs after --kill"
wait "$sleeper" "$thread_stray" 2>/dev/null || true
rc=0; out=$("$check") || rc=$?
expect_eq "$rc $out" "0 " "the check after --kill"
