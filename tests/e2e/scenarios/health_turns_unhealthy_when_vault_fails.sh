# Docker's HEALTHCHECK (`tazpod health`) follows the vault: a healthy
# container whose vault fails (its vault helper killed during the first
# unlock's create, as the OOM killer might) turns `unhealthy`, and the reason
# is in `docker inspect`'s health log.
# timeout: 900
# weight: 30
. /usr/lib/tazpod-test/e2e-lib.sh
# A PBKDF slow enough that the create lasts seconds even on an idle host:
# with the cheap one, a first run saw the create done between two of the
# killer's rounds, and the unlock succeeded.
E2E_CONTAINER_CONFIG=/tmp/sick_c.toml
sed 's/^pbkdf_memory_kib = .*/pbkdf_memory_kib = 262144/' "$E2E_CONFIG" > "$E2E_CONTAINER_CONFIG"
grep -qx 'pbkdf_memory_kib = 262144' "$E2E_CONTAINER_CONFIG" || fail "no pbkdf_memory_kib line to slow down in $E2E_CONFIG"
E2E_FAST_HEALTH=1 start_container sick_c
wait_healthy sick_c 120

# In the container, a loop that SIGKILLs every vault helper (the standby
# one too) until told to stop: whichever helper the unlock's create runs
# in dies. One pkill per round (the image has procps): a round that forked
# a process per /proc entry took seconds under emulation. The pattern is
# anchored on the helper's path, so it never matches this loop's own
# command line.
docker exec -d sick_c sh -c 'while [ ! -e /tmp/stop-killer ]; do
  pkill -KILL -f "^/usr/libexec/tazpod/tazpod-vault-helper "
  sleep 0.1
done'
# Root's unlock, not a login's: the gate locks a vault a login's unlock
# left failed at once (docs/gate.md), which would mend it before the
# healthcheck sees it; root's stays failed until `tazpod vault lock`.
rc=0
printf 'a passphrase for the sick vault\n' |
  docker exec -i sick_c tazpod vault unlock --passphrase-stdin > unlock.out 2>&1 || rc=$?
cat unlock.out
(( rc != 0 )) || fail "the unlock whose create was killed succeeded"
wait_docker_log sick_c 'vault.state .*to=failed' 60
docker exec sick_c touch /tmp/stop-killer

deadline=$(( $(clock_now) + $(e2e_limit 90) ))
until [[ $(health sick_c) == unhealthy ]]; do
  clock_before "$deadline" || fail "still '$(health sick_c)' $(e2e_limit 90) s after the vault failed"
  sleep 2
done
reasons=$(docker inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' sick_c)
echo "docker inspect's health log:"
echo "$reasons"
grep -q '^1 unhealthy: vault failed: ' <<<"$reasons" || fail "no 'unhealthy: vault failed: …' with exit code 1 in the health log"
grep -qi 'killed' <<<"$reasons" || fail "the health log does not say why the vault failed (its helper was killed)"
