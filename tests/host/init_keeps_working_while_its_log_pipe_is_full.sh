# Init's stderr is a pipe that nobody drains (a stalled log driver): full
# before init's first line. Init still starts its child and forwards every
# signal; once the pipe is drained its lines come out whole and in order,
# with no further event; and a stop still ends it. Before, init blocked in
# write(2) on its first line. The other side, a stopped terminal:
# init_keeps_working_while_its_terminal_is_stopped.py.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
cd "$dir"

cat > recorder <<'SH'
#!/bin/sh
trap 'echo SIGUSR1 >> "$1"' USR1
: > "$1.ready"
while :; do sleep 1 & wait; done
SH
chmod 0755 recorder

# The pipe: held open here for reading (and writing, so that opening it
# does not block), then filled to its 64 KiB.
mkfifo log.fifo
exec 3<>log.fifo
head -c 65536 /dev/zero >&3
# At debug level the loop forwards each signal, and logs a line for it.
unshare --pid --fork --mount-proc --kill-child "$TAZPOD" init --log-level debug -- ./recorder "$PWD/got" 2>log.fifo &
unshare_pid=$!
trap 'kill -KILL $unshare_pid 2>/dev/null || true' EXIT
for _ in $(seq 200); do [[ -e got.ready ]] && break; sleep 0.05; done
[[ -e got.ready ]] || fail "the main child did not start"
init=$(pgrep -P "$unshare_pid" | head -n 1)
[[ -n $init ]] || fail "no init under unshare"

# got: the signals the child has had.
got() { if [[ -e got ]]; then grep -c SIGUSR1 got || true; else echo 0; fi; }
for n in 1 2 3; do
  kill -USR1 "$init"
  for _ in $(seq 200); do (( $(got) >= n )) && break; sleep 0.05; done
  expect_eq "$(got)" "$n" "signals the child got while the log pipe was full"
done

# Drained: the lines that waited come out, with no further event.
head -c 65536 <&3 > /dev/null
timeout 2 cat <&3 > lines || true
grep -qE 'info init\.start ' lines || fail "init.start did not come out once the pipe was drained: $(cat lines)"
expect_eq "$(grep -cE 'debug init\.signal\.forward signal=SIGUSR1 ' lines)" 3 "forward lines once the pipe was drained"
expect_eq "$(grep -cvE '^[0-9T:.-]+Z (debug|info|warn|error) [a-z_.]+( |$)' lines)" 0 "lines that are not whole log lines"
grep -q 'log\.dropped' lines && fail "lines were dropped: $(cat lines)"

# Full again, then a stop: init ends all the same (its last lines are
# given up after a bounded wait), with the child's status.
head -c 65536 /dev/zero >&3
kill -TERM "$init"
wait_exit "$unshare_pid"
expect_eq "$EXIT_STATUS" 143 "init's exit status after SIGTERM (its child's, 128+15)"
echo "init forwarded and stopped with its log pipe full, and wrote what waited once drained"
