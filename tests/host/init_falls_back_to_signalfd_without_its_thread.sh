# When its signal thread cannot start (here: a pids cgroup that admits init
# and its main child, not one task more), init says so once and reads every
# signal from its signalfd instead: signals are still forwarded, SIGTERM
# still shuts down, and init runs on one thread.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
cd "$dir"

if [[ -d /sys/fs/cgroup/pids ]]; then
  cgroup=/sys/fs/cgroup/pids/tazpod-test-$$              # cgroup v1
elif grep -qw pids /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null; then
  cgroup=/sys/fs/cgroup/tazpod-test-$$                   # cgroup v2
else
  fail "no pids cgroup controller to limit init's tasks with"
fi
mkdir "$cgroup"
cleanup() { kill -KILL "$NS_UNSHARE" 2>/dev/null || true; sleep 0.2; rmdir "$cgroup" 2>/dev/null || true; }
echo 2 > "$cgroup/pids.max"

# Init joins the cgroup as it starts (PID 1 of its namespace: $$ is 1 there,
# which the kernel reads in the writer's namespace).
printf '#!/bin/sh\necho $$ > "%s/cgroup.procs" || exit 99\nexec "%s" "$@"\n' "$cgroup" "$TAZPOD" > in-cgroup
chmod 0755 in-cgroup
cat > recorder.py <<'PY'
import signal, sys
out = open(sys.argv[1], "a", buffering=1)
def record(num, frame):
    out.write(signal.Signals(num).name + "\n")
for name in ("SIGUSR1", "SIGHUP"):
    signal.signal(getattr(signal, name), record)
open(sys.argv[1] + ".ready", "w").close()
while True:
    signal.pause()
PY

TAZPOD=$PWD/in-cgroup start_init_ns init.log -- python3 recorder.py got
trap cleanup EXIT
wait_for_log init.log 'init\.component\.failed component=signal_thread .*fallback=signalfd'
# The thread is refused; the child (python3 may be a launcher that forks)
# may have more tasks now.
echo 100 > "$cgroup/pids.max"
for _ in $(seq 200); do [[ -e got.ready ]] && break; sleep 0.05; done
[[ -e got.ready ]] || fail "recorder did not start: $(cat init.log)"

expect_eq "$(awk '/^Threads:/ {print $2}' "/proc/$NS_INIT/status")" 1 "init's threads without the signal thread"
for sig in SIGUSR1 SIGHUP; do
  kill -s "${sig#SIG}" "$NS_INIT"
  for _ in $(seq 100); do grep -qx "$sig" got 2>/dev/null && break; sleep 0.02; done
  grep -qx "$sig" got || fail "$sig was not forwarded by the fallback (got: $(tr '\n' ' ' < got); log: $(cat init.log))"
done
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 143 "exit status after SIGTERM went to the main child (128+15)"
grep -q 'init\.exit code=143' init.log || fail "no init.exit line: $(cat init.log)"
echo "ok: signals still handled when the signal thread cannot start"
