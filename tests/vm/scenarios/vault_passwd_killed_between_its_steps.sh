# A passphrase change SIGKILLed between its two steps: the new passphrase's
# keyslot is written, the old one's not yet destroyed (crash point
# passwd.added, vault/crash_point.h). Both passphrases open the vault then;
# the same change asked again finishes, although the keyslot area (room for
# two slots, as vault_args makes it) has no room for a third; the data is
# intact. libcryptsetup's own change would have written over the only slot.
# timeout: 180
# weight: 12
# shellcheck disable=SC2034 # read by vault and vault_exec (scenario-lib.sh)
VAULT_HELPER=/usr/lib/tazpod-test/tazpod-vault-helper-crash
printf 'old pass' | vault_expect 0 unlock
echo 'token-456' > "$VAULT_MNT/token"
vault_expect 0 lock

printf 'old pass\0new pass' > change
helper_crash_arm passwd.added
(vault_exec passwd <change >/dev/null 2>&1) & helper=$!
helper_stopped_at passwd.added
expect_eq "$STOPPED_PID" "$helper" "the helper that stopped"
kill -KILL "$helper"
wait "$helper" 2>/dev/null || true

printf 'old pass' | vault_expect 0 verify
printf 'new pass' | vault_expect 0 verify
vault_expect 0 passwd <change
printf 'old pass' | vault_expect 2 verify
printf 'new pass' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/token")" token-456 "data after the interrupted change"
vault_expect 0 lock
vault_remove_enclave
