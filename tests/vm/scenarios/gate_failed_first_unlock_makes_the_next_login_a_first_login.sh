# A first login whose unlock fails after the vault was formatted (here
# ~/secrets is a file, so the mount fails) deletes the image it made, and
# the vault is `failed`. The next login, asked once (the gate saw `failed`,
# not `absent`), must not make a vault of its passphrase, which nobody
# confirmed and which is shorter than the minimum: it is refused, and the
# vault is absent again. A lock of what such a failure left ends `absent`,
# not `locked`. Then a login is a first login again: asked twice, and it
# creates the vault. (Before, that second login's unlock silently created
# a vault with the short passphrase, and a lock reported `locked`.)
# timeout: 300
# weight: 15
write_init_config init.toml
start_init init.toml init.log

# fail_first_login: a first login whose unlock fails at the mount.
fail_first_login() {
  rm -rf "$VAULT_MNT"
  : > "$VAULT_MNT"
  chown 1000:1000 "$VAULT_MNT"
  drive "$(first_login_steps 'correct horse battery')"'
expect tazpod login: 
wait' -- tazpod login
  cat drive.transcript
  expect_eq "$DRIVE_STATUS" 1 "exit status of the first login whose unlock failed"
  [[ $(tazpod vault status) == "state=failed busy=false"* ]] || fail "state after the failed first unlock: $(tazpod vault status)"
  [[ ! -e $VAULT_ENCLAVE/vault.img && ! -e $VAULT_ENCLAVE/vault.img.creating ]] ||
    fail "the failed first unlock left an image: $(ls -l "$VAULT_ENCLAVE")"
  rm "$VAULT_MNT"  # the cause is gone
}

fail_first_login
drive 'expect Vault passphrase:
send short\r
expect tazpod login: there is no vault yet: log in again to create it
wait' -- tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 1 "exit status of the login that found no vault"
grep -q '\$ ' drive.transcript && fail "the login that found no vault got a shell"
expect_eq "$(tazpod vault status)" "state=absent busy=false" "state after the login that found no vault"
[[ ! -e $VAULT_ENCLAVE/vault.img ]] || fail "a vault was made of an unconfirmed passphrase"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the login that found no vault"
grep -q 'vault.state from=unlocking to=absent event=found_no_image' init.log || fail "no found_no_image transition in the log"

fail_first_login
tazpod vault lock || fail "the lock of what the failed first unlock left"
expect_eq "$(tazpod vault status)" "state=absent busy=false" "state after locking what the failed first unlock left"
grep -q 'vault.state from=locking to=absent event=found_no_image' init.log || fail "no found_no_image transition after the lock"

# shellcheck disable=SC2016  # a script for ptydrive, not for this shell
drive "$(first_login_steps 'correct horse battery')"'
expect Vault open at /home/dev/secrets
expect $ 
send echo ok-$((40+2))\r
expect ok-42
send exit\r
wait' -- tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 0 "exit status of the first login after the failures"
wait_log init.log 'vault.state from=locking to=locked' 60
printf 'correct horse battery\n' | tazpod vault verify --passphrase-stdin || fail "the vault does not open with the passphrase given twice"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
