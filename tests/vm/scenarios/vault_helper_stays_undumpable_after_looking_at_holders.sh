# The helper holds the passphrase, and libcryptsetup the keys, so it makes
# itself not dumpable. Its holder search looks into the user's /proc
# entries with the user's file-system ids (vault/holders.cc, LookingAs), and
# every change of those ids makes the kernel reset the dumpable flag to
# fs.suid_dumpable: where that is 2 (hosts with apport), the helper would
# be dumpable again for the rest of the lock, or of an unlock after its
# recovery, and a core_pattern pipe ignores RLIMIT_CORE. Here a lock ends a
# holder of the user's, is stopped after its unmount (test-only crash
# point lock.umount) and killed by SIGABRT: no core may be dumped. A
# process that is dumpable does get one, so the check can see a dump.
# timeout: 180
# weight: 6
rm -f /run/cores
old_pattern=$(cat /proc/sys/kernel/core_pattern)
old_suid=$(cat /proc/sys/fs/suid_dumpable)
old_pipe_limit=$(cat /proc/sys/kernel/core_pipe_limit)
restore_dumps() {
  echo "$old_pattern" > /proc/sys/kernel/core_pattern
  echo "$old_suid" > /proc/sys/fs/suid_dumpable
  echo "$old_pipe_limit" > /proc/sys/kernel/core_pipe_limit
}
trap restore_dumps EXIT
# shellcheck disable=SC2016  # $1 is the pipe script's own
printf '#!/bin/sh\ncat > /dev/null\necho "$1" >> /run/cores\n' > /run/core-seen
chmod 0755 /run/core-seen
echo '|/run/core-seen %p' > /proc/sys/kernel/core_pattern
echo 2 > /proc/sys/fs/suid_dumpable
# The dumping process ends only once the pipe's reader has: a core's mark
# is there when its wait returns.
echo 1 > /proc/sys/kernel/core_pipe_limit

# The check can see a dump: a dumpable process's core reaches the pipe.
rc=0; bash -c 'ulimit -c 0; kill -ABRT $$' || rc=$?
expect_eq "$rc" 134 "the dumpable control process's end"
[[ -s /run/cores ]] || fail "a dumpable process left no core: the check could not see one"
rm /run/cores

# shellcheck disable=SC2034  # read by scenario-lib.sh's vault helpers
VAULT_HELPER=/usr/lib/tazpod-test/tazpod-vault-helper-crash
printf 'pw' | vault_expect 0 unlock
as_dev_exec bash -c "cd $VAULT_MNT && : > cwd.ready && exec sleep 1000" & holder=$!
wait_until 30 test -e "$VAULT_MNT/cwd.ready" || fail "the holder did not start"
helper_crash_arm lock.umount
(vault_exec lock >lock.out 2>lock.err) & locking=$!
helper_stopped_at lock.umount lock.out lock.err
helper=$STOPPED_PID
wait_until 5 gone "$holder" || fail "the lock did not end the user's holder"
wait "$holder" 2>/dev/null || true
kill -ABRT "$helper"
kill -CONT "$helper"
rc=0; wait "$locking" || rc=$?
expect_eq "$rc" 134 "the helper's end by SIGABRT"
[[ -e /run/cores ]] && fail "the helper dumped core after looking at the user's processes: pid $(cat /run/cores)"
echo "no core from the helper, SIGABRTed after its holder search"

restore_dumps
trap - EXIT
vault_expect 0 recover
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the recovery"
vault_remove_enclave
