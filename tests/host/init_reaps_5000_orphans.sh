# A burst of 5,000 orphans reparented to init leaves no zombie behind.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"
# The main child makes 5,000 orphans (each subshell exits at once, leaving
# its background child, which outlives it, to init), waits until they have
# all exited, then counts zombies in the namespace.
cat > child.sh <<'SH'
for i in $(seq 5000); do ( sleep 0.05 & ); done
# wait until no other process but init and us (and our pipeline) remains
for _ in $(seq 400); do
  n=0; z=0
  for s in /proc/[0-9]*/stat; do
    st=$(cut -d' ' -f3 "$s" 2>/dev/null) || continue
    [ "$st" = Z ] && z=$((z+1))
  done
  [ "$z" -eq 0 ] && break
  sleep 0.05
done
echo "$z" > zombies
SH
rc=0
unshare --pid --fork --mount-proc "$TAZPOD" init -- bash child.sh 2>log || rc=$?
expect_eq "$rc" 0 "init exit status"
expect_eq "$(cat zombies)" 0 "zombies left after 5000 orphans"
reaped=$(sed -n 's/.*init.exit .*reaped=\([0-9]*\).*/\1/p' log)
(( reaped >= 5000 )) || fail "init reports $reaped reaped processes, expected at least 5000"
echo "ok: 5000 orphans, 0 zombies, $reaped reaped"
