# Docker's HEALTHCHECK (`tazpod health`) follows the vault: a healthy
# container whose vault fails (persistent mode on a volume mounted
# read-only, so creating the image fails at the first login) turns
# `unhealthy`, and the reason is in `docker inspect`'s health log.
# timeout: 300
. /usr/lib/tazpod-test/e2e-lib.sh
E2E_VOLUMES+=(ro_vol)
docker volume create ro_vol >/dev/null
E2E_CONTAINER_CONFIG=/usr/lib/tazpod-test/e2e-persistent.toml \
  start_container sick_c -v ro_vol:/var/lib/tazpod:ro
wait_healthy sick_c 120

drive "$(login_script FIRST)
expect Creating the vault
expect tazpod login: 
wait" -- docker exec -it sick_c tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 1 "exit status of the login whose unlock failed (refused)"
wait_docker_log sick_c 'vault.state .*to=failed' 60

deadline=$(( SECONDS + 90 ))
until [[ $(health sick_c) == unhealthy ]]; do
  (( SECONDS < deadline )) || fail "still '$(health sick_c)' 90 s after the vault failed"
  sleep 2
done
reasons=$(docker inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' sick_c)
echo "docker inspect's health log:"
echo "$reasons"
grep -q '^1 unhealthy: vault failed: ' <<<"$reasons" || fail "no 'unhealthy: vault failed: …' with exit code 1 in the health log"
grep -qi 'read-only' <<<"$reasons" || fail "the health log does not say why the vault failed (read-only volume)"
