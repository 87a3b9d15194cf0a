# Init is not dumpable (its memory cannot be read through /proc by a process
# of the same user, and ptrace is refused) and writes no core file, while
# the main child gets the normal settings back.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"
chmod 0755 .
# Run as an unprivileged user, so that only dumpability protects init.
setpriv --reuid=65534 --regid=65534 --clear-groups "$TAZPOD" init -- sleep 1000 2>log &
runner=$!
for _ in $(seq 100); do child=$(pgrep -P "$runner" -x sleep) && break; sleep 0.05; done
[[ -n ${child:-} ]] || fail "init did not start its child: $(cat log)"
# $runner is init itself (setpriv execs it).
setpriv --reuid=65534 --regid=65534 --clear-groups cat "/proc/$runner/environ" >/dev/null 2>&1 &&
  fail "a same-user process could read init's /proc/PID/environ: init is dumpable"
setpriv --reuid=65534 --regid=65534 --clear-groups cat "/proc/$child/environ" >/dev/null ||
  fail "the main child should be dumpable as usual"
expect_eq "$(awk '/Max core file size/ {print $5}' "/proc/$runner/limits")" 0 "init's core size limit"
child_core=$(awk '/Max core file size/ {print $5}' "/proc/$child/limits")
if [[ -n ${TAZPOD_SANITIZED:-} ]]; then
  # ASan and TSan set init's own soft core limit to 0 before main
  # (disable_coredump), so the limit init saves and gives back is that 0,
  # not this shell's.
  echo "skipped under the sanitizers: the main child's core size limit (restored); it is $child_core"
else
  expect_eq "$child_core" "$(ulimit -c)" "the main child's core size limit (restored)"
fi
kill -TERM "$runner"
wait "$runner" || true
echo "ok: not dumpable, no core"
