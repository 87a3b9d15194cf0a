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
# They went the fast way: init's signal thread sleeps in sigwaitinfo() with
# them (the kernel unblocks the waited-for signals while it sleeps), where
# the main thread, the event loop's, keeps every one blocked.
blocked_in() { echo $((16#$(awk '/^SigBlk:/ {print $2}' "/proc/$NS_INIT/task/$1/status"))); }
signal_thread=
for task in /proc/"$NS_INIT"/task/*; do
  [[ ${task##*/} != "$NS_INIT" ]] && signal_thread=${task##*/}
done
[[ -n $signal_thread ]] || fail "init has no second thread: $(ls /proc/"$NS_INIT"/task)"
wchan=$(cat "/proc/$NS_INIT/task/$signal_thread/wchan")
[[ $wchan == do_sigtimedwait* ]] || fail "init's signal thread sleeps in $wchan, not in sigtimedwait"
main=$(blocked_in "$NS_INIT") waiting=$(blocked_in "$signal_thread")
expect_eq "$(( main >> 9 & 1 )):$(( waiting >> 9 & 1 ))" 1:0 "SIGUSR1 blocked in init's main thread:signal thread"
expect_eq "$(( main >> 14 & 1 )):$(( waiting >> 14 & 1 ))" 1:0 "SIGTERM blocked in init's main thread:signal thread"
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 143 "exit status after SIGTERM was forwarded to the main child (128+15)"
echo "all ${#signals[@]} signals forwarded"

# At debug level the loop forwards them instead, and logs each one.
: > got5; rm -f got5.ready
start_init_ns init5.log --log-level debug -- python3 recorder.py got5 SIGUSR1
for _ in $(seq 200); do [[ -e got5.ready ]] && break; sleep 0.05; done
blocked=$((16#$(awk '/^SigBlk:/ {print $2}' "/proc/$NS_INIT/status")))
expect_eq "$(( blocked >> 9 & 1 ))" 1 "SIGUSR1 blocked in init at debug level (read by the loop)"
kill -USR1 "$NS_INIT"
for _ in $(seq 100); do grep -qx SIGUSR1 got5 2>/dev/null && break; sleep 0.02; done
expect_eq "$(cat got5)" SIGUSR1 "signals the main child got at debug level"
wait_for_log init5.log 'init\.signal\.forward.*signal=SIGUSR1'
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"

# A signal the kernel raises against init itself is not the child's: past
# RLIMIT_FSIZE each log write raises SIGXFSZ, sent "by" init. Orphans reaped
# with -w make init write lines past a 400-byte limit.
printf '#!/bin/sh\nexec prlimit --fsize=400 -- "%s" "$@"\n' "$TAZPOD" > limited
chmod +x limited
: > got7; rm -f got7.ready
TAZPOD=$PWD/limited start_init_ns init7.log -w -- python3 recorder.py got7 SIGXFSZ
for _ in $(seq 200); do [[ -e got7.ready ]] && break; sleep 0.05; done
[[ -e got7.ready ]] || fail "recorder did not start: $(cat init7.log)"
for _ in 1 2 3; do
  nsenter --target "$NS_INIT" --pid -- sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do sleep 0.01 & done'
done
for _ in $(seq 100); do (( $(stat -c %s init7.log) >= 380 )) && break; sleep 0.05; done
sleep 0.3
(( $(stat -c %s init7.log) >= 380 )) || fail "init's log did not reach its size limit: $(cat init7.log)"
expect_eq "$(cat got7)" "" "signals the main child got while init's own log writes raised SIGXFSZ"
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 143 "exit status after SIGTERM (init survived its SIGXFSZ)"

# A storm of forwarded signals while the main child exits: init reaps it,
# stops forwarding, and exits with its code.
cat > exits.py <<'PY'
import signal, sys, time
signal.signal(signal.SIGWINCH, lambda *_: None)
open(sys.argv[1], "w").close()
time.sleep(0.5)
sys.exit(5)
PY
rm -f exits.ready
start_init_ns init6.log -- python3 exits.py exits.ready
for _ in $(seq 200); do [[ -e exits.ready ]] && break; sleep 0.05; done
storm=0 deadline=$(( $(clock_now) + 20 ))
while kill -WINCH "$NS_INIT" 2>/dev/null && clock_before "$deadline"; do storm=$((storm + 1)); done
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 5 "exit status of init whose main child exited 5 during $storm SIGWINCH"
(( storm > 20 )) || fail "only $storm signals were sent during the child's exit"
if grep -q 'init.component.failed' init6.log; then fail "init logged a failure: $(cat init6.log)"; fi

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
# A burst larger than one read of the signalfd (16 signals): real-time
# signals queue, so 40 sent while init is stopped are all pending when it
# resumes, and every one must reach the child (none lost between batches).
cat > counter.py <<'PY'
import signal, sys
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGRTMIN})
open(sys.argv[1] + ".ready", "w").close()
count = 0
while True:
    signal.sigwaitinfo({signal.SIGRTMIN})
    count += 1
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(count))
    __import__("os").replace(sys.argv[1] + ".tmp", sys.argv[1])
PY
rm -f got4 got4.ready
start_init_ns init4.log -- python3 counter.py got4
for _ in $(seq 200); do [[ -e got4.ready ]] && break; sleep 0.05; done
[[ -e got4.ready ]] || fail "counter did not start: $(cat init4.log)"
kill -STOP "$NS_INIT"
for _ in $(seq 100); do [[ $(awk '{print $3}' "/proc/$NS_INIT/stat") == T ]] && break; sleep 0.02; done
for _ in $(seq 40); do kill -s RTMIN "$NS_INIT"; done
kill -CONT "$NS_INIT"
for _ in $(seq 250); do [[ $(cat got4 2>/dev/null) == 40 ]] && break; sleep 0.02; done
expect_eq "$(cat got4 2>/dev/null)" 40 "real-time signals the child got of 40 queued while init was stopped"
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"
echo "ok: forwarding and rewriting"
