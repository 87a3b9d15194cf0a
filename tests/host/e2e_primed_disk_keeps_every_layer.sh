# tests/e2e/flatten-disk, which turns an e2e run's root disk into the primed
# disk later runs boot on: from a disk booted on an older primed disk (a
# chain of three qcow2 images), the flattened disk is backed by the base
# alone and reads exactly as the whole chain did. `qemu-img convert -B`
# alone loses the middle image (checked here first, so this test fails if
# the chain it builds ever stops showing the problem): that once made every
# primed disk a damaged filesystem (docs/testing.md, "The primed disk").
. "$TAZPOD_HOST_LIB"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# base (the root filesystem) <- older (an older primed disk) <- disk (the run's root)
qemu-img create -q -f qcow2 base.qcow2 64M
qemu-io -c "write -P 0x11 0 4M" base.qcow2 >/dev/null
qemu-img create -q -f qcow2 -F qcow2 -b "$work/base.qcow2" older.qcow2
qemu-io -c "write -P 0x22 4M 4M" -c "write -P 0x23 0 64k" older.qcow2 >/dev/null
qemu-img create -q -f qcow2 -F qcow2 -b "$work/older.qcow2" disk.qcow2
qemu-io -c "write -P 0x33 8M 4M" -c "write -P 0x34 4M 64k" disk.qcow2 >/dev/null
cp disk.qcow2 as-left.qcow2   # the guest's view: as-left -> older -> base

qemu-img convert -q -O qcow2 -B "$work/base.qcow2" -F qcow2 disk.qcow2 naive.qcow2
if qemu-img compare -q naive.qcow2 as-left.qcow2; then
  fail "convert -B alone kept the middle image: this test no longer shows the problem"
fi

"$root/tests/e2e/flatten-disk" disk.qcow2 base.qcow2 primed.qcow2 || fail "flatten-disk failed"
qemu-img compare -q primed.qcow2 as-left.qcow2 || fail "the flattened disk does not read as the chain did"
backing=$(qemu-img info -U --output=json primed.qcow2 | sed -n 's/^ *"full-backing-filename": "\(.*\)",\{0,1\}$/\1/p')
expect_eq "$backing" "$work/base.qcow2" "the flattened disk's backing file"

# A disk already on the base (a cold run's) is converted as it is.
qemu-img create -q -f qcow2 -F qcow2 -b "$work/base.qcow2" cold.qcow2
qemu-io -c "write -P 0x44 16M 1M" cold.qcow2 >/dev/null
"$root/tests/e2e/flatten-disk" cold.qcow2 base.qcow2 cold-primed.qcow2 || fail "flatten-disk failed on a one-level chain"
qemu-img compare -q cold-primed.qcow2 cold.qcow2 || fail "the cold disk's flattened copy differs"
echo "flatten-disk: three-level chain and one-level chain both read back exactly"
