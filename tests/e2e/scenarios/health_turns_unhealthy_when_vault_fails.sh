# Docker's HEALTHCHECK (`tazpod health`) follows the vault: a healthy
# container whose vault fails (its vault helper killed during the first
# login's create, as the OOM killer might) turns `unhealthy`, and the reason
# is in `docker inspect`'s health log.
# timeout: 300
. /usr/lib/tazpod-test/e2e-lib.sh
start_container sick_c
wait_healthy sick_c 120

# In the container, a loop that SIGKILLs every vault helper (the standby
# one too) until told to stop: whichever helper the login's create runs
# in dies.
# shellcheck disable=SC2016 # expanded by the container's shell
docker exec -d sick_c sh -c 'while [ ! -e /tmp/stop-killer ]; do
  for p in /proc/[0-9]*; do
    case $(tr "\0" " " < "$p/cmdline" 2>/dev/null) in *tazpod-vault-helper*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
  done
  sleep 0.1
done'
drive "$(login_script FIRST)
expect Creating the vault
expect tazpod login: 
wait" -- docker exec -it sick_c tazpod login
cat drive.transcript
expect_eq "$DRIVE_STATUS" 1 "exit status of the login whose create failed (refused)"
wait_docker_log sick_c 'vault.state .*to=failed' 60
docker exec sick_c touch /tmp/stop-killer

deadline=$(( SECONDS + 90 ))
until [[ $(health sick_c) == unhealthy ]]; do
  (( SECONDS < deadline )) || fail "still '$(health sick_c)' 90 s after the vault failed"
  sleep 2
done
reasons=$(docker inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}' sick_c)
echo "docker inspect's health log:"
echo "$reasons"
grep -q '^1 unhealthy: vault failed: ' <<<"$reasons" || fail "no 'unhealthy: vault failed: …' with exit code 1 in the health log"
grep -qi 'killed' <<<"$reasons" || fail "the health log does not say why the vault failed (its helper was killed)"
