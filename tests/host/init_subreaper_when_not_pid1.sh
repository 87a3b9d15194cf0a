# Not PID 1: init registers as child subreaper, says so in one log line, and
# still reaps its grandchildren (orphans of the main child).
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"
# The main child leaves an orphan that exits at once, waits until the
# orphan's pid is gone (reaped: a zombie keeps its /proc entry; up to 10 s,
# as a loaded machine may run init late), then checks that init ($PPID)
# has no zombie child left.
cat > child.sh <<'SH'
( sh -c 'echo $$ > orphan.pid; exit 5' & )
tries=0
until [ -s orphan.pid ] || [ "$tries" -ge 100 ]; do sleep 0.1; tries=$((tries+1)); done
orphan=$(cat orphan.pid)
tries=0
while [ -e "/proc/$orphan" ] && [ "$tries" -lt 100 ]; do sleep 0.1; tries=$((tries+1)); done
z=0
for s in /proc/[0-9]*/stat; do
  set -- $(sed 's/.*) //' "$s" 2>/dev/null)
  [ "${1:-}" = Z ] && [ "${2:-}" = "$PPID" ] && z=$((z+1))
done
echo "$z" > zombies
SH
rc=0
"$TAZPOD" init -- sh child.sh 2>log || rc=$?
expect_eq "$rc" 0 "exit status"
expect_eq "$(grep -c 'init.subreaper ' log)" 1 "subreaper log lines"
# Its first lines are written once the child is spawned, in their own order.
expect_eq "$(awk '{print $3}' log | grep -E '^init\.(start|subreaper|child\.start)$' | tr '\n' ' ')" \
  "init.start init.subreaper init.child.start " "the order of init's first lines"
expect_eq "$(cat zombies)" 0 "zombie grandchildren of init"
grep -q 'init.exit code=0 reaped=2' log || fail "expected init to reap the main child and the orphan: $(cat log)"

# As PID 1 there is no subreaper line.
unshare --pid --fork --mount-proc "$TAZPOD" init -- true 2>log1
expect_eq "$(grep -c 'init.subreaper' log1 || true)" 0 "subreaper lines as PID 1"

# Not PID 1, a shutdown signals only init's own descendants.
sleep 1000 & bystander=$!
# shellcheck disable=SC2016  # $PPID is the inner sh's
"$TAZPOD" init --grace-period 1s -- sh -c 'kill -TERM $PPID; sleep 1000' 2>log2 || true
kill -0 "$bystander" || fail "init (not PID 1) killed a process that is not its descendant"
kill "$bystander"
echo "ok: subreaper"
