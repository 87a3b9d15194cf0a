# As PID 1 of a PID namespace whose /proc is not its own (unshare without
# --mount-proc), the pids in /proc belong to another namespace: init must not
# signal them. It falls back to kill(-1), which the kernel confines to its
# namespace, and still stops its own processes.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"
sleep 1000 & bystander=$!
trap 'kill $bystander 2>/dev/null || true' EXIT
rc=0
timeout 20 unshare --pid --fork "$TAZPOD" init --grace-period 1s -- \
  sh -c "trap '' TERM; sleep 1000 & sleep 0.3; kill -TERM 1; wait" 2>log || rc=$?
grep -q 'init.proc.foreign' log || fail "init did not notice the foreign /proc: $(cat log)"
kill -0 "$bystander" || fail "init signalled a process outside its namespace"
expect_eq "$rc" 137 "exit status (the main child ignored SIGTERM and was killed)"
echo "ok: nothing outside the namespace was signalled"
