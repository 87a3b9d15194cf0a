# Every signal in the forwarding list reaches the main child, and with
# --rewrite the rewritten one does. Signals are sent to init (PID 1 of its
# namespace) from outside, as the container runtime does.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
cd "$dir"

# The main child records every signal it gets, one name per line.
cat > recorder.py <<'PY'
import os, signal, sys
out = open(sys.argv[1], "a", buffering=1)
names = sys.argv[2:]
def record(num, frame):
    out.write(signal.Signals(num).name + "\n")
for name in names:
    signal.signal(getattr(signal, name), record)
open(sys.argv[1] + ".ready", "w").close()
while True:
    signal.pause()
PY

signals=(SIGHUP SIGQUIT SIGUSR1 SIGUSR2 SIGWINCH SIGCONT SIGTSTP SIGTTIN SIGTTOU SIGALRM SIGURG SIGPWR SIGVTALRM SIGPROF SIGXCPU SIGIO)
start_init_ns init.log -- python3 recorder.py got "${signals[@]}"
for _ in $(seq 200); do [[ -e got.ready ]] && break; sleep 0.05; done
[[ -e got.ready ]] || fail "recorder did not start: $(cat init.log)"

for sig in "${signals[@]}"; do
  kill -s "${sig#SIG}" "$NS_INIT"
  for _ in $(seq 100); do grep -qx "$sig" got 2>/dev/null && break; sleep 0.02; done
  grep -qx "$sig" got || fail "$sig was not forwarded to the main child (got: $(tr '\n' ' ' < got))"
done
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 143 "exit status after SIGTERM was forwarded to the main child (128+15)"
echo "all ${#signals[@]} signals forwarded"

# --rewrite: SIGUSR1 arrives as SIGUSR2; SIGHUP:0 is dropped.
: > got2; rm -f got2.ready
start_init_ns init2.log --rewrite SIGUSR1:SIGUSR2 --rewrite HUP:0 -- python3 recorder.py got2 SIGUSR1 SIGUSR2 SIGHUP SIGQUIT
for _ in $(seq 200); do [[ -e got2.ready ]] && break; sleep 0.05; done
kill -USR1 "$NS_INIT"; kill -HUP "$NS_INIT"; sleep 0.2; kill -QUIT "$NS_INIT"
for _ in $(seq 100); do grep -qx SIGQUIT got2 && break; sleep 0.02; done
expect_eq "$(tr '\n' ' ' < got2)" "SIGUSR2 SIGQUIT " "signals seen with --rewrite USR1:USR2 HUP:0"
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"

# SIGINT starts the shutdown and is passed on as SIGINT; a child that only
# records it is killed when the grace period ends.
: > got3; rm -f got3.ready
start_init_ns init3.log --grace-period 1s -- python3 recorder.py got3 SIGINT
for _ in $(seq 200); do [[ -e got3.ready ]] && break; sleep 0.05; done
kill -INT "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 137 "exit status of a child that survived SIGINT past the grace period"
expect_eq "$(cat got3)" SIGINT "signal the main child saw at shutdown"
echo "ok: forwarding and rewriting"
