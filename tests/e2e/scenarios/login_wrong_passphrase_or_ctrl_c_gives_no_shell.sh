# Through `docker exec -it … tazpod login` on a real terminal, with a vault
# that already has a passphrase: Ctrl+C at the prompt and a wrong passphrase
# each end the login without a shell (PID 1 accepts no session, the vault
# stays locked); the right passphrase still opens it afterwards.
# timeout: 900
# weight: 40
. /usr/lib/tazpod-test/e2e-lib.sh
start_container refuse_c
wait_docker_log refuse_c 'control.listen' 90

# The first login chooses the passphrase; its exit locks the vault again.
drive "$(login_script FIRST)
expect \$ 
send exit\\r
wait" -- docker exec -it refuse_c tazpod login
expect_eq "$DRIVE_STATUS" 0 "exit status of the first login's shell"
wait_docker_log refuse_c 'vault.state from=locking to=locked' 90
expect_eq "$(log_count refuse_c 'gate.accepted')" 1 "sessions accepted after the first login"

# Ctrl+C at the prompt: the prompt reads raw input (ISIG off), so it is the
# byte 0x03 that ends it, not a signal.
drive "expect Vault passphrase:
send \\x03
expect no shell.
wait" -- docker exec -it refuse_c tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 4 "exit status of tazpod login after Ctrl+C (no passphrase)"

# A wrong passphrase: refused by PID 1, no shell.
drive "expect Vault passphrase:
send not the passphrase\\r
expect Wrong passphrase.
wait" -- docker exec -it refuse_c tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 1 "exit status of tazpod login with a wrong passphrase (refused)"
grep -q 'not the passphrase' drive.transcript && fail "the wrong passphrase was echoed"
wait_docker_log refuse_c 'gate.refused reason=wrong_passphrase' 30

expect_eq "$(log_count refuse_c 'gate.accepted')" 1 "sessions accepted after Ctrl+C and a wrong passphrase"
status=$(docker exec refuse_c tazpod status --json)
expect_eq "$(grep -o '"sessions":[0-9]*,.*"vault":"[a-z]*"' <<<"$status" | sed 's/,.*,/ /')" '"sessions":0 "vault":"locked"' "tazpod status after the refused logins: $status"
expect_eq "$(kernel_attached refuse_c)" "mapping=no loop=no mount=no" "the vault after the refused logins"

# The right one still works: the refusals changed nothing.
drive "$(login_script AGAIN)
expect \$ 
send echo in-\$((40+2))\\r
expect in-42
send exit\\r
wait" -- docker exec -it refuse_c tazpod login
expect_eq "$DRIVE_STATUS" 0 "exit status of the login with the right passphrase"
expect_eq "$(log_count refuse_c 'gate.accepted')" 2 "sessions accepted in all"
