# A wrong passphrase must be refused by the real kernel path: cryptsetup
# exits 2 ("no key available with this passphrase") and no mapping appears.
# timeout: 120
# weight: 8
make_passfile good 'the right one'
make_passfile bad 'the wrong one'
truncate -s 24M vault.img
cryptsetup luksFormat -q "${LUKS_TEST_OPTS[@]}" --key-file good vault.img

rc=0
cryptsetup open --key-file bad vault.img test_wrong || rc=$?
expect_eq "$rc" 2 "cryptsetup open exit status with a wrong passphrase"
[[ ! -e /dev/mapper/test_wrong ]] || fail "a mapping exists after a refused passphrase"
expect_eq "$(dmsetup ls | grep -c test_wrong || true)" 0 "mappings named test_wrong"
