# With -g, a process that joins the main child's group while init lists the
# processes to stop still gets SIGTERM. Init forwards the shutdown signal to
# the group, then reads /proc: a group member it finds there may have been
# forked after the forward, and never had the signal. Here 1,500 sleeping
# processes in another group make the listing slow, and the main child, on
# SIGTERM, forks at once a process that dies of SIGTERM, and exits. On the
# code before, init took that process for one the forward had reached, and
# it got only the SIGKILL at the end of the grace period.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
cd "$dir"

cat > main.py <<'PY'
import os, signal, time
crowd = os.fork()
if crowd == 0:
    # Their own group: init must send them SIGTERM itself, one by one.
    os.setpgid(0, 0)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for _ in range(1500):
        if os.fork() == 0:
            signal.pause()
            os._exit(1)
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
while len([p for p in os.listdir("/proc") if p.isdigit()]) < 1503:
    time.sleep(0.05)
open("ready", "w").close()
while True:
    signal.pause()
PY

for run in $(seq 3); do
  rm -f ready
  start_init_ns "init.$run.log" -g --grace-period 20s -- python3 main.py
  for _ in $(seq 600); do [[ -e ready ]] && break; sleep 0.05; done
  [[ -e ready ]] || fail "run $run: the main child did not start: $(cat "init.$run.log")"
  start=$SECONDS
  kill -TERM "$NS_INIT"
  wait_exit "$NS_UNSHARE"
  expect_eq "$EXIT_STATUS" 0 "run $run: exit status (the main child's)"
  ! grep -q 'init.shutdown.kill' "init.$run.log" ||
    fail "run $run: the process forked into the group was not sent SIGTERM: $(cat "init.$run.log")"
  (( SECONDS - start < 15 )) || fail "run $run: the shutdown waited for the grace period"
done
echo "ok: 3 runs, the group member forked during the listing ended by SIGTERM each time"
