# With -g, a process that joins the main child's group after the group got
# the shutdown signal still gets SIGTERM, not only the SIGKILL at the end of
# the grace period. Here the main child, on SIGTERM, starts a process that
# dies of SIGTERM, and exits. Whether init sees the main child's pidfd
# before its SIGCHLD decided, on the code before, whether that process was
# signalled (about half of the runs): so eight runs, each of which must end
# well before the grace period, with no init.shutdown.kill.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
cd "$dir"

cat > main.py <<'PY'
import os, signal, time
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
open("ready", "w").close()
while True:
    signal.pause()
PY

for run in $(seq 8); do
  rm -f ready
  start_init_ns "init.$run.log" -g --grace-period 20s -- python3 main.py
  for _ in $(seq 200); do [[ -e ready ]] && break; sleep 0.05; done
  [[ -e ready ]] || fail "run $run: the main child did not start: $(cat "init.$run.log")"
  start=$SECONDS
  kill -TERM "$NS_INIT"
  wait_exit "$NS_UNSHARE"
  expect_eq "$EXIT_STATUS" 0 "run $run: exit status (the main child's)"
  ! grep -q 'init.shutdown.kill' "init.$run.log" ||
    fail "run $run: the process that joined the group was not sent SIGTERM: $(cat "init.$run.log")"
  (( SECONDS - start < 15 )) || fail "run $run: the shutdown waited for the grace period"
done
echo "ok: 8 runs, the late group member ended by SIGTERM each time"
