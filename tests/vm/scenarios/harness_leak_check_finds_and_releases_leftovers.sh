# The harness's leak check (guest/kernel-leftovers: run after every scenario
# here, and once after the e2e tier's lanes) finds each kind of thing a
# scenario can leave attached on the kernel (a mount, a device-mapper
# mapping, a loop device), names it, fails, and with --release detaches it;
# on a clean kernel it passes. Without this, a check that saw nothing would
# let every leaking scenario pass.
# timeout: 60
# weight: 11
check=/usr/lib/tazpod-test/kernel-leftovers
before=$PWD/mounts-before
"$check" --record "$before"
rc=0; out=$("$check" "$before") || rc=$?
expect_eq "$rc $out" "0 nothing left on the kernel" "the check on a clean kernel"

truncate -s 4M "$PWD/probe.img"
loop=$(losetup -f --show "$PWD/probe.img")
echo "0 8 linear $loop 0" | dmsetup create leak-probe
mkdir "$PWD/mnt" && mount -t tmpfs -o size=1m tmpfs "$PWD/mnt"

rc=0; out=$("$check" --release "$before") || rc=$?
echo "$out"
expect_eq "$rc" 1 "the check's exit status with three things left"
grep -qxF "LEAK: mount $PWD/mnt left behind" <<<"$out" || fail "the mount was not reported"
grep -qxF "LEAK: device-mapper mapping leak-probe left behind" <<<"$out" || fail "the mapping was not reported"
grep -qxF "LEAK: loop device $loop left behind ($PWD/probe.img)" <<<"$out" || fail "the loop device was not reported"
expect_eq "$(grep -c '^LEAK: ' <<<"$out")" 3 "LEAK lines"

# Released: the mapping first, then the loop device it held.
dmsetup info leak-probe >/dev/null 2>&1 && fail "the mapping is still there after --release"
[[ -z $(losetup -n -O NAME -j "$PWD/probe.img") ]] || fail "the loop device is still attached after --release"
# (/proc/self/mounts read directly: the guest has no mountpoint(1).)
awk -v m="$PWD/mnt" '$2 == m {found = 1} END {exit !found}' /proc/self/mounts &&
  fail "the mount is still there after --release"

# An ignored mount is no leak (the e2e tier's Docker mounts).
mount -t tmpfs -o size=1m tmpfs "$PWD/mnt"
rc=0; out=$("$check" "$before" "^$PWD/mnt\$") || rc=$?
expect_eq "$rc $out" "0 nothing left on the kernel" "the check with the mount ignored"
umount "$PWD/mnt"
