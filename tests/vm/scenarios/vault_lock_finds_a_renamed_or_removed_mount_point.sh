# In the container's own mount namespace (PID 1's, where `docker exec`
# lands), ~/secrets is an ordinary directory of dev's home: dev may rename
# or remove it without the gate. The kernel then moves the vault's mount in
# the private namespace with the directory, or detaches it there (a
# detached mount lives on while a process holds a file in it). The lock
# finds the mount by its file system's device, not by its path: it
# unmounts it where it went, or ends what holds the detached one, and the
# mapping (the key) goes. Nothing written is lost. (A detached mount has no
# directory for the lock's hooks: that they did not run is reported.)
# A lock's hooks may run for minutes, and the user may rename the directory
# meanwhile: the lock looks for the mount again after them.
# timeout: 300
# weight: 35
mkdir -p /opt/hooks
cat > /opt/hooks/wait-if-asked <<'SH'
#!/bin/bash
[[ -e /tmp/lock-hook-waits ]] || exit 0
: > /tmp/lock-hook-waiting
while [[ ! -e /tmp/lock-hook-go ]]; do sleep 0.05; done
SH
chmod 0755 /opt/hooks/wait-if-asked
rm -f /tmp/lock-hook-waits /tmp/lock-hook-waiting /tmp/lock-hook-go
write_init_config init.toml
sed -i 's|^\[vault\]$|[vault]\nlock_hooks = ["/opt/hooks/wait-if-asked"]|' init.toml
start_init init.toml init.log
create_locked_vault 'a moved passphrase'

# Renamed: the mount is now at ~/moved in the private namespace.
printf '%s\n' 'a moved passphrase' | tazpod vault unlock --passphrase-stdin
in_vault_ns setpriv --reuid=1000 --regid=1000 --clear-groups sh -c 'echo kept > /home/dev/secrets/note'
ungated setpriv --reuid=1000 --regid=1000 --clear-groups mv /home/dev/secrets /home/dev/moved
in_vault_ns grep -q ' /home/dev/moved ' /proc/self/mounts ||
  fail "the mount did not move with the directory: $(in_vault_ns cat /proc/self/mounts)"
rc=0; tazpod vault lock 2>err || rc=$?
expect_eq "$rc" 0 "lock after ~/secrets was renamed ($(cat err))"
in_vault_ns grep -q ' /home/dev/moved ' /proc/self/mounts && fail "the vault is still mounted at ~/moved"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the lock"
expect_eq "$(tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"locked"' "state after the lock"
ungated setpriv --reuid=1000 --regid=1000 --clear-groups mv /home/dev/moved /home/dev/secrets
printf '%s\n' 'a moved passphrase' | tazpod vault unlock --passphrase-stdin
expect_eq "$(in_vault_ns cat /home/dev/secrets/note)" kept "the file after the renamed lock"

# Renamed while the lock's hook runs, after the lock found the mount.
touch /tmp/lock-hook-waits
rc=0; tazpod vault lock 2>err & locker=$!
wait_file /tmp/lock-hook-waiting 30 "the lock hook's start" init.log err
ungated setpriv --reuid=1000 --regid=1000 --clear-groups mv /home/dev/secrets /home/dev/moved
touch /tmp/lock-hook-go
wait "$locker" || rc=$?
expect_eq "$rc" 0 "lock with ~/secrets renamed during its hook ($(cat err))"
in_vault_ns grep -q ' /home/dev/moved ' /proc/self/mounts && fail "the vault is still mounted at ~/moved after the hook"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the lock with a hook"
rm -f /tmp/lock-hook-waits /tmp/lock-hook-waiting /tmp/lock-hook-go
ungated setpriv --reuid=1000 --regid=1000 --clear-groups mv /home/dev/moved /home/dev/secrets
printf '%s\n' 'a moved passphrase' | tazpod vault unlock --passphrase-stdin
expect_eq "$(in_vault_ns cat /home/dev/secrets/note)" kept "the file after the lock renamed during its hook"

# Removed while a process works in it: the mount is detached and held.
find_vault_ns
nsenter --mount="$VAULT_NS" setpriv --reuid=1000 --regid=1000 --clear-groups \
  sh -c 'cd /home/dev/secrets && exec sleep 1000' & holder=$!
holder_sleeps() { [[ $(cat "/proc/$holder/comm" 2>/dev/null) == sleep ]]; }
wait_until 10 holder_sleeps || fail "the holder did not start sleeping in the vault"
[[ $(stat -L -c %d "/proc/$holder/cwd") == $(stat -L -c %d "/proc/$holder/root/home/dev/secrets") ]] ||
  fail "the holder does not work in the vault"
ungated setpriv --reuid=1000 --regid=1000 --clear-groups rmdir /home/dev/secrets
in_vault_ns grep -q ' /home/dev/secrets ' /proc/self/mounts && fail "the mount was not detached by the rmdir"
mapping_exists "$VAULT_NAME" || fail "the held, detached file system let its mapping go by itself"
rc=0; tazpod vault lock 2>err || rc=$?
expect_eq "$rc" 0 "lock after ~/secrets was removed ($(cat err))"
# Its lock hook had no vault directory to run in: said, not passed over.
grep -q 'hooks_failed=1' err || fail "the lock did not say its hook did not run: $(cat err)"
grep -q 'hook failed: lock hooks not run: the vault.s file system is mounted nowhere' init.log ||
  fail "the log does not say the lock hooks did not run"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the lock"
state=$(awk '{print $3}' "/proc/$holder/stat" 2>/dev/null || echo gone)
[[ $state == Z || $state == gone ]] || fail "the holder $holder of the detached mount was not ended (state $state)"
wait "$holder" 2>/dev/null || true
# The next unlock makes the mount point again; the file is there.
printf '%s\n' 'a moved passphrase' | tazpod vault unlock --passphrase-stdin
expect_eq "$(in_vault_ns cat /home/dev/secrets/note)" kept "the file after the removed lock"

# Removed while nothing holds it: the file system is released at once, the
# mapping stays open by nobody; the hooks could not run, and that is said
# (vault_crash_lock_hooks_after_a_half_done_operation: the case alike but
# for the directory, after a killed lock or unlock, is not a failure).
ungated setpriv --reuid=1000 --regid=1000 --clear-groups rmdir /home/dev/secrets
in_vault_ns grep -q ' /home/dev/secrets ' /proc/self/mounts && fail "the unheld mount was not detached by the rmdir"
rc=0; tazpod vault lock 2>err || rc=$?
expect_eq "$rc" 0 "lock after ~/secrets was removed with nothing in it ($(cat err))"
grep -q 'hooks_failed=1' err || fail "the lock did not say its hook did not run after an unheld removal: $(cat err)"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the lock of an unheld removal"
printf '%s\n' 'a moved passphrase' | tazpod vault unlock --passphrase-stdin
expect_eq "$(in_vault_ns cat /home/dev/secrets/note)" kept "the file after the unheld removal's lock"
tazpod vault lock
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
vault_remove_enclave
