# The last session's lock can fail for a passing cause: here PID 1's event
# loop cannot take the descriptors the vault helper's run needs (its epoll
# refuses them: fs.epoll.max_user_watches reached), as it could not fork
# one at the container's pids limit. The vault is then `failed` and still
# unlocked, and no session is left whose exit would ask again: the gate
# tries again itself, after 1 s, then 2 s, ..., and once the shortage ends
# the key leaves the kernel. (Before, the vault stayed unlocked until the
# next login or an operator's lock.)
# timeout: 240
# weight: 27
write_init_config init.toml 'lock_grace = "3s"'
start_init init.toml init.log
# shellcheck disable=SC2016  # a script for ptydrive, not for this shell
drive "$(first_login_steps 'correct horse battery')"'
expect $ 
send exit\r
wait' -- tazpod login
expect_eq "$DRIVE_STATUS" 0 "the session"
wait_log init.log 'session.close .*sessions=0' 60

# During the grace period, every new epoll watch of root's is refused
# (ENOSPC): the lock's helper cannot start.
watches=$(cat /proc/sys/fs/epoll/max_user_watches)
restore_watches() { echo "$watches" > /proc/sys/fs/epoll/max_user_watches; }
trap restore_watches EXIT
echo 1 > /proc/sys/fs/epoll/max_user_watches
wait_log init.log 'gate.lock.failed error="cannot start the vault helper: No space left on device" retry_in_ms=1000' 30
grep -q 'vault.state from=locking to=failed event=lock_failed' init.log ||
  fail "the failed lock did not mark the vault failed: $(grep vault.state init.log | tail -n 3)"
expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=yes" "attached after the failed lock (still unlocked)"
# It is tried again, and later: still refused.
wait_log init.log 'gate.lock.failed .*retry_in_ms=2000' 30
# Counted up to that line, not to the log's end: on a slow machine the
# next retry (2 s later) may be in the log already.
retries=$(awk '/gate\.lock\.failed .*retry_in_ms=2000/ { print n + 0; exit }
               /gate\.lock reason=retry/ { n++ }' init.log)
expect_eq "$retries" 1 "retries before the second refusal"

# The shortage ends: the next retry locks, and no other follows.
restore_watches
wait_log init.log 'vault.state from=locking to=locked' 30
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the retried lock"
retries=$(grep -c 'gate.lock reason=retry' init.log)
(( retries >= 2 )) || fail "the vault locked without a retry after the watches came back: $(grep 'gate\.' init.log)"
grep -q 'init.component.failed' init.log && fail "a component failed: $(grep init.component.failed init.log)"
nap 4.5  # longer than the next retry's 4 s, had the lock not ended the retries
expect_eq "$(grep -c 'gate.lock reason=retry' init.log)" "$retries" "retries after the vault locked"
expect_eq "$(tazpod vault status)" "state=locked busy=false" "state at the end"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
