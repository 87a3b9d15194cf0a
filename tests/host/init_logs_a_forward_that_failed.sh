# A signal init cannot pass on is logged, not lost in silence: init without
# CAP_KILL, whose main child took another user, gets EPERM from kill().
# Outside debug level the signal thread forwards, and logs the failure
# itself; at debug level the loop forwards, and logs, itself. Either way: init.signal.forward_failed naming
# the signal and the error, the child untouched, and init carries on.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
chmod 0755 "$dir"
cd "$dir"

# The main child records each SIGUSR1 it gets (a shell: the interpreter
# must be one the child's user can run).
cat > recorder <<'SH'
#!/bin/sh
trap 'echo SIGUSR1 >> "$1"' USR1
: > "$1.ready"
while :; do sleep 1 & wait; done
SH
# Init as root without CAP_KILL (so it may signal only its own uid's
# processes); the child as nobody.
printf '#!/bin/sh\nexec setpriv --bounding-set=-kill -- "%s" "$@"\n' "$TAZPOD" > no-cap-kill
chmod 0755 no-cap-kill recorder

for level in info debug; do
  mkdir -m 0777 "$level"
  TAZPOD=$PWD/no-cap-kill start_init_ns "init-$level.log" --log-level "$level" -- \
    setpriv --reuid=65534 --regid=65534 --clear-groups ./recorder "$PWD/$level/got"
  for _ in $(seq 200); do [[ -e $level/got.ready ]] && break; sleep 0.05; done
  [[ -e $level/got.ready ]] || fail "$level: recorder did not start: $(cat "init-$level.log")"
  caps=$((16#$(awk '/^CapEff:/ {print $2}' "/proc/$NS_INIT/status")))
  expect_eq "$(( caps >> 5 & 1 ))" 0 "$level: CAP_KILL in init's effective set"

  kill -USR1 "$NS_INIT"
  wait_for_log "init-$level.log" 'init\.signal\.forward_failed.*signal=SIGUSR1.*Operation not permitted'
  kill -USR1 "$NS_INIT"
  for _ in $(seq 100); do (( $(grep -c 'init\.signal\.forward_failed' "init-$level.log") >= 2 )) && break; sleep 0.05; done
  expect_eq "$(grep -c 'init\.signal\.forward_failed' "init-$level.log")" 2 \
    "$level: forward_failed lines after two signals (the watch is armed again after each)"
  expect_eq "$(cat "$level/got" 2>/dev/null)" "" "$level: signals the child got"
  kill -0 "$NS_INIT" || fail "$level: init is gone after the failed forwards"

  # Init cannot signal its child, so the test ends it; init exits with its status.
  child=$(pgrep -P "$NS_INIT" | head -n 1)
  [[ -n $child ]] || fail "$level: no main child under init"
  kill -KILL "$child"
  wait_exit "$NS_UNSHARE"
  expect_eq "$EXIT_STATUS" 137 "$level: init's exit status after its child was killed (128+9)"
done
echo "failed forwards logged by the signal thread and by the loop"
