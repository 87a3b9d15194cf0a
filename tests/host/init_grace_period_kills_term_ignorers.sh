# SIGTERM to init: a main child that ignores SIGTERM, and a process beside it
# that does too, are both SIGKILLed when the grace period ends; init exits
# with the main child's status (137). Without a main child, init exits 4 when
# it had to kill, and 0 when every process left in time.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"

start_init_ns a.log --grace-period 1s -- sh -c "trap '' TERM; exec sleep 1000"
nsenter --target "$NS_INIT" --pid --mount -- sh -c "trap '' TERM; exec sleep 1000" &
sleep 0.3
start=$SECONDS
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
took=$(( SECONDS - start ))
expect_eq "$EXIT_STATUS" 137 "exit status when the main child had to be killed"
grep -q 'init.shutdown.kill processes=2' a.log || fail "expected 2 processes killed after the grace period: $(cat a.log)"
# A generous bound: the point is "killed", not a timing benchmark.
(( took <= 6 )) || fail "shutdown took ${took}s with a 1s grace period"

# No main child: a process that ignores SIGTERM → killed → exit 4.
start_init_ns b.log --grace-period 1s
nsenter --target "$NS_INIT" --pid --mount -- sh -c "trap '' TERM; exec sleep 1000" &
sleep 0.3
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 4 "exit status when processes had to be killed (no main child)"

# No main child, processes that obey SIGTERM: exit 0 well before the grace period.
start_init_ns c.log --grace-period 30s
nsenter --target "$NS_INIT" --pid --mount -- sleep 1000 &
sleep 0.3
start=$SECONDS
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 0 "exit status of a clean shutdown"
(( SECONDS - start < 20 )) || fail "clean shutdown waited for the grace period"
grep -q 'init.shutdown.term processes=1' c.log || fail "expected 1 process sent SIGTERM: $(cat c.log)"
echo "ok: grace period and exit codes"
