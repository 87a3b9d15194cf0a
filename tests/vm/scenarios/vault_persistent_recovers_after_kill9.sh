# Persistent mode (the image on a volume): a crash that leaves the mapping,
# the loop device and the mount behind (PID 1 SIGKILLed) is recovered at the
# next start, never reported as "already exists", and the data synced before
# the crash is all there. A helper SIGKILLed in the middle of an unlock
# leaks nothing either.
# timeout: 300
# weight: 15
mkdir -p /volume
mount -t tmpfs -o size=96m tmpfs /volume
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault helpers
VAULT_MODE_ARGS=(--mode persistent --image /volume/vault.img --image-size $((48 << 20)))

# The "container" runs in its own mount namespace, which dies with it: like a
# killed container, it leaves the (host-global) mapping and loop device
# behind, and its mount vanishes.
cat > container.sh <<'INNER'
set -euo pipefail
. /usr/lib/tazpod-test/scenario-lib.sh
VAULT_MODE_ARGS=(--mode persistent --image /volume/vault.img --image-size $((48 << 20)))
printf 'pw' | vault_expect 0 unlock
head -c 1048576 /dev/urandom > "$VAULT_MNT/data.bin"
sha256sum "$VAULT_MNT/data.bin" | cut -d' ' -f1 > /tmp/synced.sha
sync
# A writer is SIGKILLed mid-write, then the whole "container" is.
(exec 3>"$VAULT_MNT/partial"; while :; do echo unsynced >&3; done) & writer=$!
sleep 0.3
kill -KILL "$writer" $$
INNER
unshare --mount --propagation private bash container.sh || true
sha=$(cat /tmp/synced.sha)
expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=no" "left behind by the killed container"

# The next start: unlock finds the stale mapping and loop device, recovers
# them instead of failing with "already exists", and mounts.
printf 'pw' | vault_expect 0 unlock
expect_eq "$(sha256sum "$VAULT_MNT/data.bin" | cut -d' ' -f1)" "$sha" "synced data after the crash"
vault_expect 0 lock

# An explicit recovery, with the mount still there, is idempotent.
printf 'pw' | vault_expect 0 unlock
vault_expect 0 recover
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after recover"
vault_expect 0 recover

# SIGKILL of the helper at several moments of an unlock, then recovery.
printf 'pw' > pass
for delay in 0.05 0.2 0.5 1.0 1.5; do
  (vault_exec unlock <pass >/dev/null 2>&1) & helper=$!
  sleep "$delay"
  kill -KILL "$helper" 2>/dev/null || true
  wait "$helper" 2>/dev/null || true
  vault_expect 0 recover
  expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after a helper killed at ${delay}s and recovery"
done
printf 'pw' | vault_expect 0 unlock
expect_eq "$(sha256sum "$VAULT_MNT/data.bin" | cut -d' ' -f1)" "$sha" "data after the killed helpers"
vault_expect 0 lock
umount /volume
