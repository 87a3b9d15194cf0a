# A passphrase change SIGKILLed between its two steps: the new passphrase's
# keyslot is written, the old one's not yet destroyed (crash point
# passwd.added, vault/crash_point.h). Both passphrases open the vault then;
# the same change asked again finishes, although the keyslot area (room for
# two slots, as vault_args makes it) has no room for a third; the data is
# intact. libcryptsetup's own change would have written over the only slot.
# timeout: 180
# weight: 10
# shellcheck disable=SC2034 # read by vault and vault_exec (scenario-lib.sh)
VAULT_HELPER=/usr/lib/tazpod-test/tazpod-vault-helper-crash
crash_dir=/run/tazpod-crash
mkdir -p "$crash_dir"
printf 'old pass' | vault_expect 0 unlock
echo 'token-456' > "$VAULT_MNT/token"
vault_expect 0 lock

printf 'old pass\0new pass' > change
echo passwd.added > "$crash_dir/point"
(vault_exec passwd <change >/dev/null 2>&1) & helper=$!
deadline=$(( $(clock_now) + 60 ))
until [[ -f $crash_dir/reached ]]; do
  clock_before "$deadline" || fail "the passphrase change never reached passwd.added"
  nap 0.05
done
read -r step pid <"$crash_dir/reached"
expect_eq "$step $pid" "passwd.added $helper" "where the helper stopped"
kill -KILL "$helper"
wait "$helper" 2>/dev/null || true
rm -f "$crash_dir/point" "$crash_dir/reached"

printf 'old pass' | vault_expect 0 verify
printf 'new pass' | vault_expect 0 verify
vault_expect 0 passwd <change
printf 'old pass' | vault_expect 2 verify
printf 'new pass' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/token")" token-456 "data after the interrupted change"
vault_expect 0 lock
vault_remove_enclave
