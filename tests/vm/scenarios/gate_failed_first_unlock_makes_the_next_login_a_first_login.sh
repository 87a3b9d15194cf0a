# A first login whose unlock fails after the vault was formatted (here
# ~/secrets is a file, so the mount fails) deletes the image it made, and
# the vault is `failed`. With no session open, the gate locks what the
# failure left at once (no exit would), and that lock ends `absent`, not
# `locked`. So the next login is a first login again: asked twice, and it
# creates the vault with the passphrase given twice. (The vault used to
# stay `failed` until the next login or a lock, and that login, asked once,
# must not make a vault of its unconfirmed passphrase: the gate still
# refuses that, for a failed vault its lock could not mend.)
# timeout: 300
# weight: 29
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
  grep -q 'vault.state from=unlocking to=failed' init.log || fail "the first unlock did not fail: $(grep 'vault.state' init.log)"
  wait_log init.log 'gate.lock reason=unlock_failed' 60
  wait_log init.log 'vault.state from=locking to=absent event=found_no_image' 60
  expect_eq "$(tazpod vault status)" "state=absent busy=false" "state once the gate locked what the failed first unlock left"
  [[ ! -e $VAULT_ENCLAVE/vault.img && ! -e $VAULT_ENCLAVE/vault.img.creating ]] ||
    fail "the failed first unlock left an image: $(ls -l "$VAULT_ENCLAVE")"
  rm "$VAULT_MNT"  # the cause is gone
}

fail_first_login

# shellcheck disable=SC2016  # a script for ptydrive, not for this shell
drive "$(first_login_steps 'correct horse battery')"'
expect Vault open at /home/dev/secrets
expect $ 
send echo ok-$((40+2))\r
expect ok-42
send exit\r
wait' -- tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 0 "exit status of the first login after the failure"
wait_log init.log 'vault.state from=locking to=locked' 60
printf 'correct horse battery\n' | tazpod vault verify --passphrase-stdin || fail "the vault does not open with the passphrase given twice"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
