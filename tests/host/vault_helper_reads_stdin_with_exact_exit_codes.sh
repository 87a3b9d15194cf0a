# How the vault helper reads its passphrases from stdin (PID 1's pipe),
# through the real helper, without device-mapper: straight into its locked
# buffer, up to exactly two passphrases of the longest and their separator.
# A read that fails is a failed system call (exit 1, naming the error), not
# a usage error; more than the buffer holds is one (exit 64). Memory that
# cannot be locked is never read into (exit 1).
. "$TAZPOD_HOST_LIB"
helper_on_files
max=1024  # vault/passphrase_limits.h

# stdin a directory: read(2) fails with EISDIR.
rc=0; out=$(H verify </ 2>err) || rc=$?
expect_eq "$rc" 1 "verify with a directory on stdin ($out $(cat err))"
grep -q 'cannot read the passphrase from stdin: Is a directory' err || fail "the read error is not named: $(cat err)"

# The same for a standby helper's operation name; a line too long for a
# name, or cut short, is a usage error.
rc=0; out=$(H standby </ 2>err) || rc=$?
expect_eq "$rc" 1 "standby with a directory on stdin ($out $(cat err))"
grep -q 'cannot read the operation from stdin: Is a directory' err || fail "the standby's read error is not named: $(cat err)"
for line in $'an-operation-name-too-long\n' 'verify'; do
  rc=0; out=$(printf '%s' "$line" | H standby 2>err) || rc=$?
  expect_eq "$rc" 64 "standby given '$line' ($out $(cat err))"
  grep -q 'no operation name on' err || fail "standby given '$line': not said: $(cat err)"
done

# Two passphrases of the longest: read whole, and answered (no vault yet).
{ head -c $max /dev/zero | tr '\0' o; printf '\0'; head -c $max /dev/zero | tr '\0' n; } > longest
rc=0; out=$(H passwd <longest 2>err) || rc=$?
expect_eq "$rc" 4 "passwd with two passphrases of $max bytes ($(cat err))"
[[ $out == *"no vault yet"* ]] || fail "passwd of the longest passphrases not answered as for no vault: $out $(cat err)"

# One byte more than that is refused as too long.
printf 'x' >> longest
rc=0; out=$(H passwd <longest 2>err) || rc=$?
expect_eq "$rc" 64 "passwd with one byte too many ($out $(cat err))"
grep -q 'too long a passphrase on stdin' err || fail "too long not said: $(cat err)"

# No CAP_IPC_LOCK and no RLIMIT_MEMLOCK: the buffer cannot be locked, and
# the passphrase is not read into it. (The sanitizers' runtimes make mlock
# a no-op that succeeds.)
if [[ -n ${TAZPOD_SANITIZED:-} ]]; then
  echo "skipped under the sanitizers: memory that cannot be locked"
else
  rc=0; out=$(printf 'pw' | (ulimit -l 0 && exec setpriv --bounding-set -ipc_lock --inh-caps -ipc_lock \
    "$TAZPOD_VAULT_HELPER" verify --mode persistent --image "$HELPER_DIR/vault.img" --name tazpod-hosttest \
    --mountpoint "$HELPER_DIR/mnt") 2>err) || rc=$?
  expect_eq "$rc" 1 "verify where memory cannot be locked ($out $(cat err))"
  grep -q 'cannot lock memory for the passphrase' err || fail "the unlocked memory is not named: $(cat err)"
  # passwd: the page read into is locked (4 KiB may be), but the two it
  # splits the passphrases into could not be: refused, not copied there.
  rc=0; out=$(printf 'old\0new' | (ulimit -l 4 && exec setpriv --bounding-set -ipc_lock --inh-caps -ipc_lock \
    "$TAZPOD_VAULT_HELPER" passwd --mode persistent --image "$HELPER_DIR/vault.img" --name tazpod-hosttest \
    --mountpoint "$HELPER_DIR/mnt") 2>err) || rc=$?
  expect_eq "$rc" 1 "passwd where only one page can be locked ($out $(cat err))"
  grep -q 'cannot lock memory for the passphrase' err || fail "passwd's unlocked copies are not named: $(cat err)"
fi

# stderr a pipe nobody reads (PID 1's own, when it had no descriptor left
# for its relay): the message is lost, the exit code is not. Before, the
# first write killed the helper with SIGPIPE, as it would a lock between
# its unmount and its deactivate.
rc=0; out=$(printf 'verify' | python3 -c 'import os, subprocess, sys
r, w = os.pipe()
os.close(r)
sys.exit(subprocess.run(sys.argv[1:], stderr=w).returncode % 256)' "$TAZPOD_VAULT_HELPER" standby --mode persistent \
  --image "$HELPER_DIR/vault.img" --name tazpod-hosttest --mountpoint "$HELPER_DIR/mnt") || rc=$?
expect_eq "$rc" 64 "standby cut short, its stderr a pipe nobody reads ($out)"

rm -f longest err
cd /
rmdir "$HELPER_DIR"
echo "ok: the helper reads stdin whole, and a failed read exits 1"
