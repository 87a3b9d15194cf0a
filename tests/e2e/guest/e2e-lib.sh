# Helpers for e2e scenarios, sourced by a scenario's first line (after the vm
# tier's scenario-lib.sh, which run-scenario sources: fail, expect_eq, drive).
# Every docker CLI call costs 1–1.5 s under emulation: poll sparingly.

E2E_IMAGE=${TAZPOD_E2E_IMAGE:?}
E2E_RESULTS=/mnt/e2e/results
E2E_CONFIG=/usr/lib/tazpod-test/e2e-config.toml
E2E_CONTAINERS=()

# start_container NAME [DOCKER RUN OPTIONS...]: `docker run -d` of the image
# under test, privileged (for loop devices and dm-crypt), without a network,
# with cheap PBKDF settings mounted as /etc/tazpod/config.toml, and a health
# interval short enough for a test (the command is the image's HEALTHCHECK).
# At the scenario's exit it is stopped (so tazpod locks the vault as on any
# `docker stop`, even when the scenario failed half-way), its `docker logs`
# are kept in results/docker-logs/, and it is removed.
start_container() {
  local name=$1
  shift
  E2E_CONTAINERS+=("$name")
  trap e2e_cleanup EXIT
  docker run -d --privileged --network none --name "$name" --hostname "$name" \
    -v "$E2E_CONFIG:/etc/tazpod/config.toml:ro" \
    --health-interval 2s --health-start-period 60s "$@" "$E2E_IMAGE" >/dev/null
}

e2e_cleanup() {
  local name
  mkdir -p "$E2E_RESULTS/docker-logs"
  for name in "${E2E_CONTAINERS[@]}"; do
    docker stop -t 20 "$name" >/dev/null 2>&1 || true
    docker logs "$name" >"$E2E_RESULTS/docker-logs/$name.log" 2>&1 || true
    docker rm -f "$name" >/dev/null 2>&1 || true
  done
}

# health NAME: the container's health status as Docker reports it.
health() { docker inspect -f '{{.State.Health.Status}}' "$1"; }

# wait_healthy NAME [SECONDS]
wait_healthy() {
  local deadline=$(( SECONDS + ${2:-90} )) status
  while :; do
    status=$(health "$1")
    [[ $status == healthy ]] && return 0
    (( SECONDS < deadline )) || fail "$1 is '$status', not healthy, after ${2:-90} s:
$(docker logs "$1" 2>&1 | tail -n 20)"
    sleep 2
  done
}

# wait_docker_log NAME REGEX [SECONDS]: waits for a line in `docker logs`.
wait_docker_log() {
  local deadline=$(( SECONDS + ${3:-60} ))
  until docker logs "$1" 2>&1 | grep -qE "$2"; do
    (( SECONDS < deadline )) || fail "no line matching '$2' in docker logs $1 within ${3:-60} s:
$(docker logs "$1" 2>&1 | tail -n 30)"
    sleep 2
  done
}

# kernel_attached NAME: what the guest kernel holds for container NAME's
# vault (mapping tazpod-NAME), as "mapping=… loop=… mount=…": the container
# shares the guest's kernel, so its device-mapper table, loop devices and
# mounts (in any namespace) are visible here.
kernel_attached() {
  local m=no l=no t=no
  dmsetup info "tazpod-$1" >/dev/null 2>&1 && m=yes
  [[ -n $(losetup -n -O NAME 2>/dev/null) ]] && l=yes
  # grep on the files, not `cat … | grep -q`: under pipefail an early match
  # makes cat die of SIGPIPE and the pipeline fail.
  grep -qs ' /home/dev/secrets ' /proc/[0-9]*/mounts && t=yes
  echo "mapping=$m loop=$l mount=$t"
}

# A first login's dialogue through `docker exec -it` (ptydrive is the
# terminal): choose the passphrase, then run COMMANDS in the shell.
# shellcheck disable=SC2034 # used by the scenarios that source this file
E2E_PASSPHRASE='correct horse battery'
