# Every TazPod container keeps its enclave at the same path, in its own mount
# namespace, so a loop device's backing path (sysfs) may name another
# container's file. A first unlock here must leave alone a loop device that
# backs another namespace's `vault.img.creating` (found by e2e: two first
# logins at once failed with "a loop device still backs ... after 2 s"), and
# still create, mount and lock its own vault.
# timeout: 180
# weight: 10
enclave=/run/clash/enclave
mkdir -p "$enclave"
# "Container A", half way through its first unlock: its enclave tmpfs holds a
# `vault.img.creating` with a loop device attached.
mount -t tmpfs -o size=64m tmpfs "$enclave"
dd if=/dev/zero of="$enclave/vault.img.creating" bs=1M count=16 2>/dev/null
a_loop=$(losetup -f --show "$enclave/vault.img.creating")
echo "container A's loop device: $a_loop"

# "Container B": its own mount namespace, its own (RAM) enclave at the same
# path, its first unlock and a lock.
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault_args
VAULT_NAME=tazpod-clash-b VAULT_ENCLAVE=$enclave VAULT_MNT=/run/clash/secrets
vault_args
rc=0
# shellcheck disable=SC2016  # the script runs in the inner bash, with its own $1 and $@
unshare -m --propagation private bash -c '
  set -euo pipefail
  umount /run/clash/enclave   # the copy of the other container tmpfs
  helper=$1; shift
  printf b | "$helper" unlock "$@"
  echo B > /run/clash/secrets/who
  [[ $(cat /run/clash/secrets/who) == B ]]
  "$helper" lock "$@" </dev/null
  umount /run/clash/enclave
' bash "$VAULT_HELPER" "${VAULT_ARGS[@]}" || rc=$?
expect_eq "$rc" 0 "B's first unlock, write and lock"

# A's device is untouched.
expect_eq "$(cat "/sys/block/${a_loop#/dev/}/loop/backing_file" 2>/dev/null)" \
  "$enclave/vault.img.creating" "A's loop device after B's unlock"
expect_eq "$(dmsetup ls | grep -c tazpod-clash-b || true)" 0 "B's mapping after its lock"
losetup -d "$a_loop"
umount "$enclave"
