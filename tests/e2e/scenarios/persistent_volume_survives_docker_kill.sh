# Persistent mode on a named volume: `docker kill` (SIGKILL, no lock) while
# the vault is unlocked leaves its mapping and loop device on the kernel;
# `docker start` recovers (removes them, instead of failing on the name),
# the same passphrase opens the vault again, and the data synced before the
# kill is intact.
# timeout: 1080
# weight: 40
. /usr/lib/tazpod-test/e2e-lib.sh
E2E_VOLUMES+=(persist_vol)
docker volume create persist_vol >/dev/null
E2E_CONTAINER_CONFIG=/usr/lib/tazpod-test/e2e-persistent.toml \
  start_container persist_c -v persist_vol:/var/lib/tazpod
wait_docker_log persist_c 'control.listen' 90

token=synced-$RANDOM-$RANDOM
open_session persist_c s1 FIRST "echo $token > ~/secrets/kept && sync"
wait_session s1
docker kill persist_c >/dev/null
end_session s1 || true
expect_eq "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}}' persist_c)" "exited 137" "the container after docker kill"
left=$(kernel_attached persist_c)
echo "left on the kernel by the kill: $left"
[[ $left == "mapping=yes loop=yes "* ]] || fail "the kill left no mapping and loop device to recover from: $left"

docker start persist_c >/dev/null
wait_docker_log persist_c 'vault.recover.done' 90 2
docker logs persist_c 2>&1 | grep -E 'vault.recover' | tail -n 3
expect_eq "$(docker exec persist_c tazpod status --json | grep -o '"vault":"[a-z]*"')" '"vault":"locked"' "the vault after docker start"
expect_eq "$(kernel_attached persist_c)" "mapping=no loop=no mount=no" "the kernel after recovery"

drive "$(login_script AGAIN)
expect \$ 
send cat ~/secrets/kept; echo read-\$((40+2))\\r
expect read-42
send exit\\r
wait" -- docker exec -it persist_c tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 0 "exit status of the login after the restart"
grep -q "$token" drive.transcript || fail "the synced data is not in the vault after docker kill and docker start"
wait_docker_log persist_c 'vault.state from=locking to=locked' 90
expect_eq "$(kernel_attached persist_c)" "mapping=no loop=no mount=no" "after the last session exited"
