# Init passes no stray descriptor to the main child (only 0, 1 and 2), keeps
# none open itself, and does not keep the directory it started in busy; the
# main child still starts in that directory (Docker's WORKDIR). A closed
# stdin or stdout is opened on /dev/null.
. "$TAZPOD_HOST_LIB"
work=$(mktemp -d)
cd "$work"
exec 7>"$work/stray"
start_init_ns init.log -- sh -c 'pwd > cwd; exec sleep 1000'
for _ in $(seq 100); do child=$(pgrep -P "$NS_INIT" -x sleep) && break; sleep 0.05; done
exec 7>&-
# shellcheck disable=SC2012  # /proc/PID/fd holds only numeric names
expect_eq "$(ls "/proc/$child/fd" | sort -n | tr '\n' ' ')" "0 1 2 " "descriptors of the main child"
expect_eq "$(cat cwd)" "$work" "working directory of the main child"
# shellcheck disable=SC2012  # /proc/PID/fd holds only numeric names
init_fds=$(ls "/proc/$NS_INIT/fd" | wc -l)
# shellcheck disable=SC2010  # likewise
ls -l "/proc/$NS_INIT/fd" | grep -q "$work/stray" && fail "init kept the stray descriptor open"
expect_eq "$(readlink "/proc/$NS_INIT/cwd")" / "working directory of init"
echo "init holds $init_fds descriptors"
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"

# Started with stdin and stdout closed, init opens /dev/null on them: the
# main child gets all three, and no later descriptor of init's takes their
# numbers. (Closed by the shell that execs init: unshare leaves a
# descriptor on 1.)
# shellcheck disable=SC2016  # the inner shell's arguments
unshare --pid --fork --mount-proc --kill-child sh -c 'exec "$0" init -- sleep 1000 <&- >&-' "$TAZPOD" 2>closed.log &
closed_unshare=$!
child=''
for _ in $(seq 100); do
  closed_init=$(pgrep -P "$closed_unshare") && child=$(pgrep -P "$closed_init" -x sleep) && break
  sleep 0.05
done
[[ -n $child ]] || fail "init with stdin and stdout closed started no main child: $(cat closed.log)"
expect_eq "$(readlink "/proc/$child/fd/0") $(readlink "/proc/$child/fd/1")" "/dev/null /dev/null" \
  "stdin and stdout of the main child"
kill -TERM "$closed_init"
wait "$closed_unshare" || true
echo "ok: nothing held open"
