# A lock whose helper was SIGKILLed after its unmount (crash point
# lock.umount), or an unlock's after its activation (unlock.activate),
# leaves the mapping with its file system mounted nowhere and open by
# nobody, its mount point still there. The next lock finishes the job, and
# its lock hooks have nothing to act on: it must not report them as "not
# run" (a failure that says ~/secrets was removed:
# vault_lock_finds_a_renamed_or_removed_mount_point is that case, the
# mount point gone, held or not). The hooks ran in the lock that was
# killed, before its unmount, and run again in the next ordinary lock.
# timeout: 300
# weight: 28
. /usr/lib/tazpod-test/crash-lib.sh
mkdir -p /opt/hooks
cat > /opt/hooks/count-lock <<'SH'
#!/bin/bash
echo ran >> /tmp/lock-hook-runs
SH
chmod 0755 /opt/hooks/count-lock
rm -f /tmp/lock-hook-runs
hook_runs() { if [[ -e /tmp/lock-hook-runs ]]; then wc -l < /tmp/lock-hook-runs; else echo 0; fi; }

# lock_finishes_without_a_hook_failure WHAT: the lock after WHAT.
lock_finishes_without_a_hook_failure() {
  local rc=0
  ctr_lock > lock.out 2>&1 || rc=$?
  expect_eq "$rc" 0 "the lock after $1 ($(cat lock.out))"
  grep -q 'hooks_failed' lock.out && fail "the lock after $1 reported a hook failure: $(cat lock.out)"
  grep -q 'lock hooks not run' "$CRASH_LOG" && fail "the log after $1 says the lock hooks did not run"
  expect_eq "$(crash_attached)" "mapping=no loop=no mount=no" "attached after the lock after $1"
}

crash_setup
sed -i 's|^\[vault\]$|[vault]\nlock_hooks = ["/opt/hooks/count-lock"]|' init.toml
crash_start
ctr_unlock
crash_add_chunk

crash_operation_at lock.umount ctr_lock
expect_eq "$(hook_runs)" 1 "lock hook runs before the lock's helper was killed"
crash_kill_helper
[[ $(crash_status) == state=failed* ]] || fail "state after the lock's helper was killed: $(crash_status)"
expect_eq "$(crash_attached)" "mapping=yes loop=yes mount=no" "attached after the lock's helper was killed"
lock_finishes_without_a_hook_failure "a lock killed after its unmount"
expect_eq "$(hook_runs)" 1 "lock hook runs after the lock that finished the job"

crash_operation_at unlock.activate ctr_unlock
crash_kill_helper
[[ $(crash_status) == state=failed* ]] || fail "state after the unlock's helper was killed: $(crash_status)"
expect_eq "$(crash_attached)" "mapping=yes loop=yes mount=no" "attached after the unlock's helper was killed"
lock_finishes_without_a_hook_failure "an unlock killed after its activation"
expect_eq "$(hook_runs)" 1 "lock hook runs after the lock of a half-made unlock"

ctr_unlock
crash_expect_one_vault
crash_verify
ctr_lock
expect_eq "$(hook_runs)" 2 "lock hook runs after an ordinary lock"
crash_teardown
rm -f /tmp/lock-hook-runs
