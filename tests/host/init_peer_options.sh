# The peers' options keep their meaning: -g forwards to the main child's
# whole process group (tini -g), --forward-delay holds SIGTERM back for the
# given time, --pdeathsig makes init's parent's death a shutdown (tini -p),
# and -w reports foreign reaps at warn level (tini -w).
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"

# -g: the main child and its background job share a process group; SIGUSR1
# sent to init reaches both.
cat > group.sh <<'SH'
trap 'echo parent >> got' USR1
sh -c "trap 'echo job >> got; exit 0' USR1; echo > job.ready; while :; do sleep 0.05; done" &
while [ ! -e job.ready ]; do sleep 0.05; done
echo ready > ready
while :; do sleep 0.05; done
SH
# ready: both traps are set (a SIGUSR1 before the job's would end the job).
start_init_ns g.log -g -- bash group.sh
for _ in $(seq 200); do [[ -e ready ]] && break; sleep 0.05; done
[[ -e ready ]] || fail "group.sh did not start: $(cat g.log)"
kill -USR1 "$NS_INIT"
for _ in $(seq 100); do [[ $(wc -l < got 2>/dev/null || echo 0) -ge 2 ]] && break; sleep 0.05; done
expect_eq "$(sort got | tr '\n' ' ')" "job parent " "processes of the main child's group that got SIGUSR1 with -g"
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"

# Without -g only the main child gets it.
rm -f got ready job.ready
start_init_ns c.log -- bash group.sh
for _ in $(seq 200); do [[ -e ready ]] && break; sleep 0.05; done
[[ -e ready ]] || fail "group.sh did not start: $(cat c.log)"
kill -USR1 "$NS_INIT"
sleep 0.5
expect_eq "$(sort got | tr '\n' ' ')" "parent " "processes that got SIGUSR1 without -g"
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"

# --forward-delay: the main child gets SIGTERM only after the delay.
start_init_ns d.log --forward-delay 1500ms -- sleep 1000
clock_tenths; start=$CLOCK_TENTHS
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
clock_tenths; took=$(( CLOCK_TENTHS - start ))
expect_eq "$EXIT_STATUS" 143 "exit status after the delayed SIGTERM"
(( took >= 15 )) || fail "SIGTERM was forwarded after $(( took * 100 )) ms, before the 1500 ms delay"
grep -q 'init.shutdown.delay delay_ms=1500' d.log || fail "delay not logged: $(cat d.log)"

# --pdeathsig SIGTERM: when init's parent dies, init shuts down.
rm -f pd.log
setsid sh -c "\"$TAZPOD\" init --pdeathsig SIGTERM -- sleep 1000 2>pd.log & echo \$! > init.pid; sleep 0.5" &
parent=$!
wait "$parent"
init_pid=$(cat init.pid)
for _ in $(seq 100); do kill -0 "$init_pid" 2>/dev/null || break; sleep 0.05; done
kill -0 "$init_pid" 2>/dev/null && fail "init survived its parent's death with --pdeathsig"
grep -q 'init.shutdown.begin reason=signal signal=SIGTERM' pd.log || fail "no shutdown on parent death: $(cat pd.log)"

# -w: a foreign reap is a warning.
start_init_ns w.log -w -- sleep 1000
nsenter --target "$NS_INIT" --pid --mount -- sh -c '(true &)'
wait_for_log w.log 'warn init.reap.foreign'
kill -TERM "$NS_INIT"; wait_exit "$NS_UNSHARE"
echo "ok: -g, --forward-delay, --pdeathsig, -w"
