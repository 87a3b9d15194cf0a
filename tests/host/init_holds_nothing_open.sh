# Init passes no stray descriptor to the main child (only 0, 1 and 2), keeps
# none open itself, and does not keep the directory it started in busy; the
# main child still starts in that directory (Docker's WORKDIR).
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
echo "ok: nothing held open"
