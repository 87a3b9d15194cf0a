# Unlock hooks run as the workstation user after the mount (in the vault,
# with TAZPOD_VAULT set), lock hooks before the unmount; a failing hook is
# reported but leaves the vault unlocked and usable; one past its timeout is
# killed with its children; while they run, the helper holds the passphrase
# no more.
# timeout: 240
# weight: 32
mkdir -p /opt/hooks
cat > /opt/hooks/fetch <<'SH'
#!/bin/bash
echo "uid=$UID gid=${GROUPS[0]} pwd=$PWD vault=$TAZPOD_VAULT hook=$TAZPOD_HOOK" > "$TAZPOD_VAULT/fetched"
SH
cat > /opt/hooks/broken <<'SH'
#!/bin/bash
exit 3
SH
cat > /opt/hooks/farewell <<'SH'
#!/bin/bash
echo "locked by $USER (uid $UID)" > "$TAZPOD_VAULT/farewell"
SH
chmod 0755 /opt/hooks/*
VAULT_MODE_ARGS+=(--unlock-hook /opt/hooks/fetch --unlock-hook /opt/hooks/broken --lock-hook /opt/hooks/farewell)
rc=0
out=$(printf 'pw' | vault unlock 2>hook-errors) || rc=$?
echo "$out"; cat hook-errors
expect_eq "$rc" 0 "unlock with a failing hook"
[[ $out == *hooks_failed=1* ]] || fail "the failing hook was not counted: $out"
grep -q '/opt/hooks/broken: exit status 3' hook-errors || fail "the failing hook was not named"
expect_eq "$(cat "$VAULT_MNT/fetched")" "uid=1000 gid=1000 pwd=$VAULT_MNT vault=$VAULT_MNT hook=unlock" "what the unlock hook saw"
expect_eq "$(stat -c %U "$VAULT_MNT/fetched")" dev "owner of the hook's file"
vault_expect 0 lock
printf 'pw' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/farewell")" "locked by dev (uid 1000)" "what the lock hook wrote before the unmount"
vault_expect 0 lock

# A hook past its timeout is killed with its children (its own process
# group): a child left behind could hold the vault open.
cat > /opt/hooks/stuck <<'SH'
#!/bin/bash
(cd "$TAZPOD_VAULT" && exec sleep 1001) &
sleep 1002
SH
chmod 0755 /opt/hooks/stuck
VAULT_MODE_ARGS+=(--unlock-hook /opt/hooks/stuck --hook-timeout-ms 1500)
out=$(printf 'pw' | vault unlock 2>stuck-errors) || fail "unlock with a stuck hook: $out $(cat stuck-errors)"
grep -q '/opt/hooks/stuck: killed after the hook timeout' stuck-errors || fail "the stuck hook was not reported: $(cat stuck-errors)"
sleep 0.5
# From /proc, not pgrep: the guest's may be busybox's, without -a.
left=$(for p in /proc/[0-9]*; do tr '\0' ' ' < "$p/cmdline" 2>/dev/null; echo; done | grep -c '^sleep 100[12]' || true)
expect_eq "$left" 0 "the stuck hook's processes left after its timeout"
vault_expect 0 lock
vault_remove_enclave

# One that left its process group for its parent's (the helper's, here the
# scenario's): killed all the same, at its timeout, not waited for until it
# ends by itself.
cat > /opt/hooks/stray <<'SH'
#!/bin/bash
exec /usr/lib/tazpod-test/joingroup sleep 30
SH
chmod 0755 /opt/hooks/stray
VAULT_MODE_ARGS=(--mode ram --enclave-size $((64 << 20)) --unlock-hook /opt/hooks/stray --hook-timeout-ms 1500)
vault_args
start=$(date +%s)
# In a session of its own, as PID 1 starts it: its group is then its own
# (here, without setsid, it would be group 0, which no process can join).
out=$(printf 'pw' | setsid -w "$VAULT_HELPER" unlock "${VAULT_ARGS[@]}" 2>stray-errors) ||
  fail "unlock with a hook out of its group: $out $(cat stray-errors)"
took=$(( $(date +%s) - start ))
echo "the hook out of its group: the unlock took ${took} s: $(cat stray-errors)"
grep -q '/opt/hooks/stray: killed after the hook timeout' stray-errors || fail "the stray hook was not reported: $(cat stray-errors)"
(( took < 20 )) || fail "the unlock waited ${took} s for a hook past its 1.5 s timeout"
vault_expect 0 lock
vault_remove_enclave

# Hooks may run for minutes: the helper wipes the passphrase before them.
# A hook that waits lets its parent, the helper, be scanned meanwhile.
cat > /opt/hooks/wait <<'SH'
#!/bin/bash
echo "$PPID" > /tmp/hook-helper.pid
while [[ ! -e /tmp/hook-go ]]; do sleep 0.05; done
SH
chmod 0755 /opt/hooks/wait
rm -f /tmp/hook-helper.pid /tmp/hook-go
VAULT_MODE_ARGS=(--mode ram --enclave-size $((64 << 20)) --unlock-hook /opt/hooks/wait)
printf 'a hook-time passphrase 51c7' > hook.needle
vault unlock < hook.needle > wait.out 2>&1 & unlocking=$!
wait_until 60 test -s /tmp/hook-helper.pid || fail "the waiting hook did not start: $(cat wait.out)"
helper=$(</tmp/hook-helper.pid)
[[ $(cat "/proc/$helper/comm") == tazpod-vault-* ]] || fail "the hook's parent $helper is not the helper: $(cat "/proc/$helper/comm")"
rc=0
scan=$(/usr/lib/tazpod-test/memscan hook.needle "$helper") || rc=$?
echo "$scan"
touch /tmp/hook-go
wait "$unlocking" || fail "unlock with a waiting hook: $(cat wait.out)"
expect_eq "$rc" 0 "memscan of the helper while its unlock hook runs (1: the passphrase is still there)"
vault_expect 0 lock
rm -f /tmp/hook-helper.pid /tmp/hook-go
vault_remove_enclave
