# Orphans of a process that ran beside the main child (the `docker exec`
# case: it entered the namespace from outside) are reparented to init and
# reaped.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"
start_init_ns init.log -v -v -- sleep 1000
# Like `docker exec`: enter the namespace, leave orphans, exit.
nsenter --target "$NS_INIT" --pid --mount -- sh -c '(sleep 0.3 &) ; (sleep 0.3 &) ; (sleep 0.3 &)'
for _ in $(seq 200); do (( $(grep -c 'init.reap.foreign' init.log) >= 3 )) && break; sleep 0.05; done
n=$(grep -c 'init.reap.foreign' init.log)
(( n >= 3 )) || fail "expected 3 foreign reaps in the log, got $n: $(cat init.log)"
expect_eq "$(zombies_in_ns "$NS_INIT")" 0 "zombies in the namespace after the exec'd process's orphans exited"
kill -TERM "$NS_INIT"
wait_exit "$NS_UNSHARE"
expect_eq "$EXIT_STATUS" 143 "exit status (sleep died of the forwarded SIGTERM)"
echo "ok: exec orphans reaped"
