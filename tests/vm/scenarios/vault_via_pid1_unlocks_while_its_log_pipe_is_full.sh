# PID 1's stderr is a pipe nobody drains (a stalled log driver; a terminal
# stopped with Ctrl+S is the same to a writer), full before init starts. An
# unlock whose hook writes far more than that pipe holds still ends at once,
# with the hook run to its end: the hook, like the helper and mkfs, writes
# to PID 1's relay, and PID 1 passes its lines into its own log, which
# drops what cannot wait. Before, the hook blocked on the full pipe until
# its timeout killed it. Once the pipe is drained, the lines that waited
# come out whole and in order, and log.dropped says how many were lost.
# timeout: 180
# weight: 21
mkdir -p /opt/hooks
cat > /opt/hooks/chatty <<'SH'
#!/bin/bash
pad=$(printf '%.0s.' {1..100})
for i in {1..3000}; do echo "chatty hook line $i $pad" >&2; done
: > /tmp/chatty.done
SH
chmod 0755 /opt/hooks/chatty
rm -f /tmp/chatty.done
write_init_config init.toml
sed -i 's|^\[vault\]$|[vault]\noperation_timeout = "100s"\nhook_timeout = "60s"\nunlock_hooks = ["/opt/hooks/chatty"]|' init.toml

# The pipe: held open here for reading (and writing, so that opening it
# does not block), then filled to its 64 KiB.
mkfifo log.fifo
exec 3<>log.fifo
head -c 65536 /dev/zero >&3
tazpod init --config init.toml 2>log.fifo &
INIT_PID=$!
ready() { [[ $(tazpod vault status 2>/dev/null) == "state=absent busy=false"* ]]; }
wait_until 60 ready || fail "init did not get ready with its log pipe full: $(tazpod vault status 2>&1)"

started=$(clock_now)
rc=0
printf 'chatty passphrase\n' | timeout 90 tazpod vault unlock --passphrase-stdin > unlock.out 2>&1 || rc=$?
took=$(( $(clock_now) - started ))
expect_eq "$rc" 0 "the unlock with the log pipe full ($(cat unlock.out))"
[[ -e /tmp/chatty.done ]] || fail "the hook did not run to its end (held up by the full pipe?)"
# Far below the hook's 60 s timeout, which is what ended a held-up hook.
(( took < 45 )) || fail "the unlock took $took s"
echo "unlocked in $took s with the log pipe full; the hook wrote its 3000 lines"

[[ $(tazpod vault status) == "state=unlocked busy=false"* ]] || fail "state after the unlock: $(tazpod vault status)"

# Drained: what waited comes out, with no further event. PID 1's own lines
# after the hook's first ones found no room either: the kept lines are the
# first ones.
head -c 65536 <&3 > /dev/null
timeout 3 cat <&3 > lines || true
grep -q 'vault.state from=absent to=unlocking' lines || fail "PID 1's lines before the hook's did not come out: $(head -c 2000 lines)"
# The hook's lines kept are its first ones, each whole, in order, each
# marked as the hook's by the helper.
hook_prefix='tazpod-vault-helper: hook /opt/hooks/chatty: '
kept=$(grep -c "^${hook_prefix}chatty hook line " lines || true)
(( kept > 0 )) || fail "none of the hook's lines came out: $(head -c 2000 lines)"
pad=$(printf '%.0s.' {1..100})
awk -v pad="$pad" -v prefix="$hook_prefix" 'index($0, prefix "chatty hook line ") == 1 {
  n++; if ($0 != prefix "chatty hook line " n " " pad) { print "line " NR ": " $0; exit 1 } }' lines ||
  fail "a hook line came out cut or out of order"
grep -qE ' warn log\.dropped lines=[0-9]+$' lines || fail "no log.dropped after $kept of 3000 hook lines"
echo "$kept hook lines came out whole; $(grep -oE 'log\.dropped lines=[0-9]+' lines)"

# With the pipe drained, the lock's lines come out as they are logged.
tazpod vault lock || fail "the lock"
timeout 2 cat <&3 > after || true
grep -q 'vault.helper.done operation=lock code=0' after || fail "the lock's lines did not come out: $(cat after)"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the lock"
exec 3<&-  # from here the log goes nowhere: PID 1 must not mind
kill -TERM "$INIT_PID"
wait "$INIT_PID" || true
rm -f /tmp/chatty.done
vault_remove_enclave
