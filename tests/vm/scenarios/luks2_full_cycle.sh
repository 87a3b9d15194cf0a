# Proves the guest has real dm-crypt: a LUKS2 volume is formatted, opened as a
# device-mapper crypt target, given an ext4 file system, mounted, written,
# closed, and reopened with the data intact.
# timeout: 120
# weight: 15
mkdir -p enclave mnt
mount -t tmpfs -o size=96m,mode=0700 tmpfs enclave
make_passfile pass 'correct horse battery staple'
truncate -s 48M enclave/vault.img

cryptsetup luksFormat -q "${LUKS_TEST_OPTS[@]}" --key-file pass enclave/vault.img
cryptsetup isLuks --type luks2 enclave/vault.img

cryptsetup open --key-file pass enclave/vault.img test_cycle
expect_eq "$(dm_target test_cycle)" crypt "device-mapper target of test_cycle"
grep -qx test_cycle /sys/block/dm-*/dm/name || fail "no dm device named test_cycle in sysfs"
backing=$(cryptsetup status test_cycle | awk '$1 == "device:" {print $2}')
[[ $backing == /dev/loop* ]] || fail "crypt target not backed by a loop device: $backing"

mkfs.ext4 -q /dev/mapper/test_cycle
mount -o nosuid,nodev /dev/mapper/test_cycle mnt
echo 'plaintext canary 7f3a' > mnt/secret
sync
umount mnt
cryptsetup close test_cycle
[[ ! -e /dev/mapper/test_cycle ]] || fail "mapping still present after close"
! grep -q 'plaintext canary 7f3a' enclave/vault.img || fail "plaintext found in the image"

cryptsetup open --key-file pass enclave/vault.img test_cycle
mount -o ro /dev/mapper/test_cycle mnt
expect_eq "$(cat mnt/secret)" 'plaintext canary 7f3a' "data after reopen"
umount mnt
cryptsetup close test_cycle
umount enclave
