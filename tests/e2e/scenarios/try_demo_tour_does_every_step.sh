# The tour `scripts/try --demo` shows (it boots the guest with this scenario
# alone): start a container, log in through `docker exec -it` with a demo
# passphrase, write a secret in the vault, leave, see the vault locked and
# the container healthy, stop it. Every step checks what it claims; the
# first that does not fails the tour.
# timeout: 900
# weight: 35
. /usr/lib/tazpod-test/e2e-lib.sh
tour_step=0
step() { tour_step=$((tour_step + 1)); printf '\n==> tour %d/6: %s\n' "$tour_step" "$*"; }
ok() { printf '    ok: %s\n' "$*"; }

step "docker run -d --privileged --name tour $E2E_IMAGE  (tazpod init is PID 1)"
echo "    (demo settings: cheap key derivation, as the guest's CPU is emulated)"
E2E_FAST_HEALTH=1 start_container tour
wait_healthy tour 120
ok "PID 1 is $(docker exec tour cat /proc/1/comm); Docker says: $(health tour)"

step "docker exec -it tour tazpod login  (first login: choose a passphrase, typed twice, never echoed)"
drive "$(login_script FIRST)
expect Vault open at
expect \$ 
send id -un; findmnt -n -o SOURCE,TARGET,FSTYPE ~/secrets; echo 'my API token' > ~/secrets/token.txt; ls -l ~/secrets; tr a-z A-Z < ~/secrets/token.txt; echo tour-\$((40+2))\\r
expect tour-42
send exit\\r
wait" -- docker exec -it tour tazpod login
sed 's/^/    | /' drive.transcript
expect_eq "$DRIVE_STATUS" 0 "the login's exit status"
grep -q "$E2E_PASSPHRASE" drive.transcript && fail "the passphrase was echoed"
grep -q '/dev/mapper/tazpod-tour */home/dev/secrets *ext4' drive.transcript || fail "/home/dev/secrets was not the vault's dm-crypt mapping"
grep -q 'MY API TOKEN' drive.transcript || fail "the secret was not written and read back"
ok "a shell as dev, ~/secrets on dm-crypt, a secret written"

step "the last session left: the vault locks itself"
wait_docker_log tour 'vault.state from=locking to=locked' 90
docker exec tour tazpod status > status.txt
sed 's/^/    | /' status.txt
status=$(cat status.txt)
grep -qi 'locked' <<<"$status" || fail "tazpod status does not say locked"
expect_eq "$(kernel_attached tour)" "mapping=no loop=no mount=no" "what the kernel holds of the vault"
ok "no mapping, no loop device, no mount left on the kernel"

step "docker exec tour cat /home/dev/secrets/token.txt  (no terminal, no login: no vault)"
expect_fails "an ungated read of the secret" docker exec tour cat /home/dev/secrets/token.txt
ok "the secret is not readable without tazpod login"

step "docker's HEALTHCHECK with the vault locked"
docker exec tour tazpod health | sed 's/^/    | /'
wait_healthy tour 60
ok "healthy"

step "docker stop tour  (PID 1 locks the vault first, then ends every process)"
docker stop tour >/dev/null
expect_eq "$(docker inspect -f '{{.State.ExitCode}}' tour)" 0 "the container's exit code"
docker logs tour 2>&1 | grep -E 'init\.(shutdown\.begin|exit)' | sed 's/^/    | /'
ok "exited with code 0 within Docker's grace period"
printf '\ntour: every step did what it should.\n'
