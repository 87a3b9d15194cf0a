# With -g, a process that joins the main child's group after the group got
# the shutdown signal still gets SIGTERM, not only the SIGKILL at the end of
# the grace period. Here the main child, on SIGTERM, starts a process that
# dies of SIGTERM, and exits. Each run must end well before the grace
# period, with no init.shutdown.kill. Two ways it went wrong before:
# - whether init saw the main child's pidfd before its SIGCHLD decided
#   whether that process was signalled (about half of the runs): eight runs
#   with nothing else in the namespace;
# - init forwarded the signal, then read /proc, and took a group member
#   forked meanwhile for one the forward had reached: three runs in which
#   1,500 sleeping processes in another group make that reading slow.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
cd "$dir"

cat > main.py <<'PY'
import os, signal, sys, time
crowd = int(sys.argv[1])
if crowd and os.fork() == 0:
    # Their own group: init must send them SIGTERM itself, one by one.
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for _ in range(crowd - 1):
        if os.fork() == 0:
            break
    signal.pause()
    os._exit(1)
def on_term(num, frame):
    # Blocked across the fork: the new process must not run this handler.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    if os.fork() == 0:
        # Ended by the kernel's default action, not a Python handler: one
        # set up in a process forked inside a handler can miss the signal.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
        time.sleep(100)
        os._exit(1)
    os._exit(0)
signal.signal(signal.SIGTERM, on_term)
while len([p for p in os.listdir("/proc") if p.isdigit()]) < crowd + 2:
    time.sleep(0.05)
open("ready", "w").close()
while True:
    signal.pause()
PY

# runs COUNT CROWD: COUNT shutdowns with CROWD other processes about.
runs() {
  local run log
  for run in $(seq "$1"); do
    log="init.$2.$run.log"
    rm -f ready
    start_init_ns "$log" -g --grace-period 20s -- python3 main.py "$2"
    for _ in $(seq 600); do [[ -e ready ]] && break; sleep 0.05; done
    [[ -e ready ]] || fail "run $run (crowd $2): the main child did not start: $(cat "$log")"
    start=$(clock_now)
    kill -TERM "$NS_INIT"
    wait_exit "$NS_UNSHARE"
    expect_eq "$EXIT_STATUS" 0 "run $run (crowd $2): exit status (the main child's)"
    ! grep -q 'init.shutdown.kill' "$log" ||
      fail "run $run (crowd $2): the process that joined the group was not sent SIGTERM: $(cat "$log")"
    (( $(clock_now) - start < 15 )) || fail "run $run (crowd $2): the shutdown waited for the grace period"
  done
}
runs 8 0
runs 3 1500
echo "ok: 11 runs, the late group member ended by SIGTERM each time"
