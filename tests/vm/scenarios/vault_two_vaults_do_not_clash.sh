# Two vaults ("two containers") on one kernel, unlocked at once under their
# own device-mapper names: no clash, each sees its own data.
# timeout: 240
# weight: 17
VAULT_NAME=tazpod-aaaa VAULT_ENCLAVE=/run/a/enclave VAULT_MNT=/run/a/secrets
printf 'a' | vault_expect 0 unlock
echo A > /run/a/secrets/who
VAULT_NAME=tazpod-bbbb VAULT_ENCLAVE=/run/b/enclave VAULT_MNT=/run/b/secrets
printf 'b' | vault_expect 0 unlock
echo B > /run/b/secrets/who
expect_eq "$(dmsetup ls | awk '{print $1}' | sort | tr '\n' ' ')" "tazpod-aaaa tazpod-bbbb " "mappings"
expect_eq "$(cat /run/a/secrets/who)$(cat /run/b/secrets/who)" AB "each vault's data"
vault_expect 0 lock
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault helpers
VAULT_NAME=tazpod-aaaa VAULT_ENCLAVE=/run/a/enclave VAULT_MNT=/run/a/secrets
vault_expect 0 lock
umount /run/a/enclave /run/b/enclave
