# When the event loop cannot watch the processes the shutdown must stop
# (its epoll refuses their pidfds: out of memory, or
# fs.epoll.max_user_watches reached), the shutdown goes on as it does
# without pidfds: each process is looked at every 50 ms until it is gone.
# It is not broken off: a process that ignores SIGTERM is killed at the
# grace period, nothing is left, and init exits with the main child's
# status. (Before, the watch was made by a constructor that throws, and
# the shutdown stopped at the first process it could not watch.)
# timeout: 120
# weight: 20
cat > init.toml <<'TOML'
[init]
grace_period = "2s"
log_level = "debug"

[vault]
enabled = false

[session]
control = false

[health]
http = false
TOML
# The main child ignores SIGTERM, as does one of its three children.
tazpod init --config init.toml -- sh -c \
  'trap "" TERM; sleep 1000 & sleep 1000 & sh -c "trap \"\" TERM; exec sleep 1000" & wait' 2> init.log &
INIT_PID=$!
sleeping() {  # how many `sleep 1000` run
  local f n=0
  for f in /proc/[0-9]*/cmdline; do [[ $(tr '\0' ' ' < "$f" 2>/dev/null) == "sleep 1000 " ]] && n=$((n + 1)); done
  echo "$n"
}
three_sleep() { [[ $(sleeping) -eq 3 ]]; }
wait_until 10 three_sleep || fail "the main child's processes did not start: $(sleeping) sleeping"

# From here every new epoll watch of root's is refused (ENOSPC).
watches=$(cat /proc/sys/fs/epoll/max_user_watches)
restore_watches() { echo "$watches" > /proc/sys/fs/epoll/max_user_watches; }
trap restore_watches EXIT
echo 1 > /proc/sys/fs/epoll/max_user_watches
started=$(clock_now)
kill -TERM "$INIT_PID"
rc=0; wait "$INIT_PID" || rc=$?
took=$(( $(clock_now) - started ))
restore_watches

expect_eq "$rc" 137 "init's exit status (its main child ignored SIGTERM and was killed)"
(( took <= 6 )) || fail "the shutdown took ${took}s with a 2s grace period"
expect_eq "$(sleeping)" 0 "processes left after the shutdown"
grep 'init.shutdown.no_pidfd' init.log | grep -q 'No space left on device' ||
  fail "the refused watch was not logged: $(cat init.log)"
grep -q 'init.component.failed' init.log && fail "a component failed: $(grep init.component.failed init.log)"
grep -q 'init.exit code=137' init.log || fail "no exit line: $(tail -n 5 init.log)"
