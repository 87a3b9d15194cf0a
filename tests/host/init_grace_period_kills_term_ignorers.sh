# SIGTERM to init: a main child that ignores SIGTERM, and a process beside it
# that does too, are both SIGKILLed when the grace period ends; init exits
# with the main child's status (137). Without a main child, init exits 4 when
# it had to kill, and 0 when every process left in time. Stopped processes
# are woken to act on their SIGTERM.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"

# wait_for_sleeps N: until N `sleep 1000` run in init's namespace (the ones
# beside the main child come through nsenter, which takes its time).
wait_for_sleeps() {
  for _ in $(seq 200); do
    (( $(pgrep --ns "$NS_INIT" --nslist pid -fx 'sleep 1000' | wc -l) >= $1 )) && return 0
    sleep 0.05
  done
  fail "expected $1 'sleep 1000' in init's namespace; log: $(cat ./*.log)"
}

start_init_ns a.log --grace-period 1s -- sh -c "trap '' TERM; exec sleep 1000"
nsenter --target "$NS_INIT" --pid --mount -- sh -c "trap '' TERM; exec sleep 1000" &
wait_for_sleeps 2
clock_tenths; start=$CLOCK_TENTHS
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
clock_tenths; took=$(( CLOCK_TENTHS - start ))
expect_eq "$EXIT_STATUS" 137 "exit status when the main child had to be killed"
grep -q 'init.shutdown.kill processes=2' a.log || fail "expected 2 processes killed after the grace period: $(cat a.log)"
# Not before the grace period ended, and a generous bound after it: the
# point is "waited, then killed", not a timing benchmark (tenths of a second).
(( took >= 10 )) || fail "shutdown took 0.${took}s: the 1s grace period was not waited out"
(( took <= 60 )) || fail "shutdown took $(( took / 10 )).$(( took % 10 ))s with a 1s grace period"

# No main child: a process that ignores SIGTERM → killed → exit 4.
start_init_ns b.log --grace-period 1s
nsenter --target "$NS_INIT" --pid --mount -- sh -c "trap '' TERM; exec sleep 1000" &
wait_for_sleeps 1
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 4 "exit status when processes had to be killed (no main child)"

# No main child, processes that obey SIGTERM: exit 0 well before the grace period.
start_init_ns c.log --grace-period 30s
nsenter --target "$NS_INIT" --pid --mount -- sleep 1000 &
wait_for_sleeps 1
start=$(clock_now)
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 0 "exit status of a clean shutdown"
(( $(clock_now) - start < 20 )) || fail "clean shutdown waited for the grace period"
grep -q 'init.shutdown.term processes=1' c.log || fail "expected 1 process sent SIGTERM: $(cat c.log)"

# Stopped processes, the main child and one beside it (jobs suspended with
# Ctrl+Z), are woken to act on their SIGTERM: none waits for the SIGKILL.
# The one beside is an orphan of a `docker exec`, init's child: nsenter
# would stop itself with a stopped child, and never reap it.
start_init_ns d.log --grace-period 30s -- sleep 1000
nsenter --target "$NS_INIT" --pid --mount -- sh -c 'sleep 1001 & exit 0'
main_child='' beside=''
for _ in $(seq 100); do
  main_child=$(pgrep -P "$NS_INIT" -fx 'sleep 1000') || true
  beside=$(pgrep -P "$NS_INIT" -fx 'sleep 1001') || true
  [[ -n $main_child && -n $beside ]] && break
  sleep 0.05
done
[[ -n $main_child && -n $beside ]] || fail "the two sleeps did not start"
kill -STOP "$main_child" "$beside"
for pid in "$main_child" "$beside"; do
  for _ in $(seq 100); do grep -q '^State:.*T' "/proc/$pid/status" && break; sleep 0.05; done
  grep -q '^State:.*T' "/proc/$pid/status" || fail "process $pid did not stop"
done
start=$(clock_now)
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 143 "exit status of a stopped main child woken to die of SIGTERM"
(( $(clock_now) - start < 20 )) || fail "stopped processes waited for the grace period"
grep -q 'init.shutdown.kill' d.log && fail "stopped processes were SIGKILLed: $(cat d.log)"
echo "ok: grace period and exit codes"
