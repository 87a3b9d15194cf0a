# `docker exec -it <c> tazpod login` on a real terminal: the first login
# chooses the passphrase, gives a shell as dev with ~/secrets mounted, and a
# file written there; when that last session exits, the vault is locked: no
# device-mapper mapping, no loop device and no mount left on the (guest)
# kernel. The passphrase is never echoed. The session leaves the image's
# ssh-agent running with its socket in the vault (`ssh-agent -a`), which
# makes itself not dumpable: the lock's search finds it and ends it.
# timeout: 900
# weight: 20
. /usr/lib/tazpod-test/e2e-lib.sh
start_container login_c
wait_docker_log login_c 'control.listen' 90
expect_eq "$(kernel_attached login_c)" "mapping=no loop=no mount=no" "before the first login"

drive "expect New vault passphrase:
send $E2E_PASSPHRASE\\r
expect Repeat it:
send $E2E_PASSPHRASE\\r
expect Vault open at /home/dev/secrets
expect \$ 
send echo \"\$(id -un):\$(pwd)\" > ~/secrets/who; findmnt -n -o TARGET,SOURCE ~/secrets; cat ~/secrets/who; echo ok-\$((40+2))\\r
expect ok-42
send ssh-agent -a ~/secrets/agent.sock > /dev/null && test -S ~/secrets/agent.sock && echo agent-\$((40+3))\\r
expect agent-43
send exit 3\\r
wait" -- docker exec -it login_c tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 3 "exit status of docker exec -it tazpod login (the shell's)"
grep -q 'dev:/home/dev' drive.transcript || fail "the shell was not dev's in /home/dev"
grep -q '/home/dev/secrets */dev/mapper/tazpod-login_c' drive.transcript || fail "the home's secrets folder was not the vault's mapping"
grep -q "$E2E_PASSPHRASE" drive.transcript && fail "the passphrase was echoed"

wait_docker_log login_c 'vault.state from=locking to=locked' 90
expect_eq "$(kernel_attached login_c)" "mapping=no loop=no mount=no" "after the last session exited"
# Ended by the lock, and reaped by PID 1 a moment later: pgrep exits 1
# when it finds none (other statuses: the exec or pgrep failed).
agents() { local rc=0; docker exec login_c pgrep -x ssh-agent >&2 || rc=$?; echo "$rc"; }
for _ in 1 2 3 4 5 6 7 8 9 10; do [[ $(agents) == 1 ]] && break; sleep 1; done
rc=$(agents)
expect_eq "$rc" 1 "pgrep -x ssh-agent's exit status after the lock (0: the agent holding the vault outlived it)"
docker logs login_c 2>&1 | grep -q 'ended the user.s processes' &&
  fail "the search missed the ssh-agent (privileged: it may look into it), which the last resort ended"
true
