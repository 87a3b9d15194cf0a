# Helpers for e2e scenarios, sourced by a scenario's first line (after the vm
# tier's scenario-lib.sh, which run-scenario sources: fail, expect_eq, drive).
# Every docker CLI call costs 1–1.5 s under emulation: poll sparingly.

E2E_IMAGE=${TAZPOD_E2E_IMAGE:?}
E2E_RESULTS=/mnt/e2e/results
E2E_CONFIG=/usr/lib/tazpod-test/e2e-config.toml
E2E_CONTAINERS=()

# The e2e tier shares the machine's two cores with the other tiers
# (scripts/test runs it in a lane beside them), and its scenarios then run
# 2-3.5 times slower than alone (docs/testing.md). Every wait below, and
# ptydrive's expects (DRIVE_TIMEOUT), allow E2E_WAIT_FACTOR times the
# seconds a scenario names: a wait's limit is what a failure costs, not
# what a pass takes.
E2E_WAIT_FACTOR=${E2E_WAIT_FACTOR:-3}
e2e_limit() { echo $(( $1 * E2E_WAIT_FACTOR )); }
# ptydrive's default limit for its expects (a script's own `timeout` lines
# still set their own).
DRIVE_TIMEOUT=$(e2e_limit 60)
export DRIVE_TIMEOUT

# start_container NAME [DOCKER RUN OPTIONS...]: `docker run -d` of the image
# under test, privileged (for loop devices and dm-crypt), without a network,
# with cheap PBKDF settings mounted as /etc/tazpod/config.toml ($E2E_CONFIG,
# or the file E2E_CONTAINER_CONFIG names). The image's HEALTHCHECK runs
# as the image sets it (every 30 s), unless E2E_FAST_HEALTH=1 asks for every
# 2 s, for a scenario that waits on the health status: each check is a
# `docker exec` of `tazpod health`, a second or more of the engine's CPU
# under emulation, paid by every lane. The hostname is NAME,
# so the vault's mapping is tazpod-NAME; with E2E_DEFAULT_HOSTNAME=1 it is
# Docker's default, the container id, as users get it.
# The vault's image gets a file name of this container's own
# (vault_image_name: vault-NAME.img, in the enclave or on the volume): the
# kernel names a loop device's backing file by its path inside the container
# (or, once the container is gone, inside the enclave or volume), so this is
# how the checks below tell this container's loop devices from those of a
# scenario running beside it (guest/run-all's lanes).
# At the scenario's exit it is stopped (so tazpod locks the vault as on any
# `docker stop`, even when the scenario failed half-way), its `docker logs`
# are kept in results/docker-logs/, and it is removed; so are the volumes
# named in E2E_VOLUMES. Then nothing of its vault may be left on the kernel.
declare -A E2E_MAPPING=()
vault_image_name() { echo "vault-$1.img"; }
start_container() {
  local name=$1 hostname=() config base id image
  shift
  image=$(vault_image_name "$name")
  E2E_CONTAINERS+=("$name")
  trap e2e_cleanup EXIT
  [[ ${E2E_DEFAULT_HOSTNAME:-0} == 1 ]] || hostname=(--hostname "$name")
  local health=()
  [[ ${E2E_FAST_HEALTH:-0} == 1 ]] && health=(--health-interval 2s --health-start-period 60s)
  config=$PWD/config-$name.toml base=${E2E_CONTAINER_CONFIG:-$E2E_CONFIG}
  if grep -q '^image = ' "$base"; then
    sed "s|^image = \"\(.*\)/vault.img\"$|image = \"\1/$image\"|" "$base" > "$config"
  else
    sed "s|^\[vault\]$|[vault]\nimage = \"/run/tazpod/enclave/$image\"|" "$base" > "$config"
  fi
  grep -q "^image = \".*/$image\"$" "$config" || fail "start_container: no image path of $name's own in $config"
  id=$(docker run -d --privileged --network none --name "$name" ${hostname[@]+"${hostname[@]}"} \
    -v "$config:/etc/tazpod/config.toml:ro" \
    ${health[@]+"${health[@]}"} "$@" "$E2E_IMAGE")
  # Docker's default hostname is the id's first 12 characters.
  if [[ ${E2E_DEFAULT_HOSTNAME:-0} == 1 ]]; then E2E_MAPPING[$name]=tazpod-${id:0:12}; else E2E_MAPPING[$name]=tazpod-$name; fi
}

E2E_VOLUMES=()
e2e_cleanup() {
  local rc=$? name pid
  for pid in ${E2E_SESSIONS[@]+"${E2E_SESSIONS[@]}"}; do kill "$pid" 2>/dev/null || true; done
  mkdir -p "$E2E_RESULTS/docker-logs"
  for name in "${E2E_CONTAINERS[@]}"; do
    docker stop -t 20 "$name" >/dev/null 2>&1 || true
    docker logs "$name" >"$E2E_RESULTS/docker-logs/$name.log" 2>&1 || true
    docker rm -f "$name" >/dev/null 2>&1 || true
  done
  for name in ${E2E_VOLUMES[@]+"${E2E_VOLUMES[@]}"}; do
    docker volume rm -f "$name" >/dev/null 2>&1 || true
  done
  e2e_leak_check || { [[ $rc -ne 0 ]] || rc=99; }
  exit "$rc"
}

# e2e_leak_check: after the scenario's containers are gone, nothing of their
# vaults is left on the kernel (a leak is reported and undone, so the next
# scenario starts clean). The vm tier's run-scenario checks the whole kernel
# when a scenario runs alone; this check holds beside other lanes too.
e2e_leak_check() {
  local name loop leaks=0
  for name in "${E2E_CONTAINERS[@]}"; do
    # No mapping name when its `docker run` failed: nothing of it can be left.
    [[ -n ${E2E_MAPPING[$name]-} ]] || continue
    if dmsetup info "${E2E_MAPPING[$name]}" >/dev/null 2>&1; then
      echo "e2e: LEAK: $name's mapping ${E2E_MAPPING[$name]} left behind"
      dmsetup remove --force "${E2E_MAPPING[$name]}" || true
      leaks=1
    fi
    for loop in $(e2e_loops "$name"); do
      echo "e2e: LEAK: $name's loop device $loop left behind"
      losetup -d "$loop" || true
      leaks=1
    done
  done
  return "$leaks"
}

# e2e_loops NAME: the loop devices whose backing file is NAME's vault image,
# /vault-NAME.img under whatever folder the kernel names it by (also while it
# is still being created, or once deleted).
e2e_loops() {
  losetup -l -n --raw -O NAME,BACK-FILE 2>/dev/null |
    awk -v f="/$(vault_image_name "$1")" 'index($2, f) {print $1}'
}

# health NAME: the container's health status as Docker reports it.
health() { docker inspect -f '{{.State.Health.Status}}' "$1"; }

# wait_healthy NAME [SECONDS]
wait_healthy() {
  local limit; limit=$(e2e_limit "${2:-90}")
  local deadline=$(( $(clock_now) + limit )) status
  while :; do
    status=$(health "$1")
    [[ $status == healthy ]] && return 0
    clock_before "$deadline" || fail "$1 is '$status', not healthy, after $limit s:
$(docker logs "$1" 2>&1 | tail -n 20)"
    sleep 2
  done
}

# wait_docker_log NAME REGEX [SECONDS [COUNT]]: waits until `docker logs`
# has COUNT lines (default 1) matching REGEX. A restarted container's logs
# hold its earlier runs' lines too: count them in.
wait_docker_log() {
  local limit; limit=$(e2e_limit "${3:-60}")
  local deadline=$(( $(clock_now) + limit )) want=${4:-1}
  until (( $(docker logs "$1" 2>&1 | grep -cE "$2") >= want )); do
    clock_before "$deadline" || fail "fewer than $want line(s) matching '$2' in docker logs $1 within $limit s:
$(docker logs "$1" 2>&1 | tail -n 30)"
    sleep 2
  done
}

# log_count NAME REGEX: how many lines of `docker logs NAME` match REGEX.
log_count() { docker logs "$1" 2>&1 | grep -cE "$2" || true; }

# kernel_attached NAME: what the guest kernel holds for container NAME's
# vault, as "mapping=… loop=… mount=…": its mapping, loop devices backed by
# its image, a mount of its mapping on /home/dev/secrets. The container
# shares the guest's kernel, so its device-mapper table, loop devices and
# mounts (in any namespace) are visible here; nothing of another
# container's vault is counted.
kernel_attached() {
  local m=no l=no t=no
  dmsetup info "${E2E_MAPPING[$1]}" >/dev/null 2>&1 && m=yes
  [[ -n $(e2e_loops "$1") ]] && l=yes
  # grep on the files, not `cat … | grep -q`: under pipefail an early match
  # makes cat die of SIGPIPE and the pipeline fail.
  grep -qs "^/dev/mapper/${E2E_MAPPING[$1]} /home/dev/secrets " /proc/[0-9]*/mounts && t=yes
  echo "mapping=$m loop=$l mount=$t"
}

# A first login's dialogue through `docker exec -it` (ptydrive is the
# terminal): choose the passphrase, then run COMMANDS in the shell.
# shellcheck disable=SC2034 # used by the scenarios that source this file
E2E_PASSPHRASE='correct horse battery'

# login_script FIRST|AGAIN: the start of a ptydrive script for `tazpod login`:
# a first login chooses $E2E_PASSPHRASE (typed twice), a later one types it.
login_script() {
  if [[ $1 == FIRST ]]; then
    printf '%s\n' "expect New vault passphrase:" "send $E2E_PASSPHRASE\\r" "expect Repeat it:" "send $E2E_PASSPHRASE\\r"
  else
    printf '%s\n' "expect Vault passphrase:" "send $E2E_PASSPHRASE\\r"
  fi
}

# open_session NAME TAG FIRST|AGAIN COMMANDS: a gated session in the
# background (`docker exec -it NAME tazpod login` on ptydrive's terminal)
# that runs COMMANDS in dev's shell, then stays open until release_session
# (or the container's end). wait_session TAG waits until COMMANDS ran.
# Its transcript: session-TAG.transcript.
declare -A E2E_SESSIONS=()
open_session() {
  local name=$1 tag=$2
  {
    login_script "$3"
    printf '%s\n' "expect \$ " "send $4; touch /tmp/ready-$tag; echo ready-\$((40+2))\\r" "expect ready-42" \
      "send while [ ! -e /tmp/release-$tag ]; do sleep 0.5; done; exit\\r" "timeout 600" "wait"
  } > "session-$tag.script"
  /usr/lib/tazpod-test/ptydrive "session-$tag.script" -- docker exec -it "$name" tazpod login \
    2>"session-$tag.transcript" &
  E2E_SESSIONS[$tag]=$!
  E2E_SESSION_CONTAINER[$tag]=$name
}
declare -A E2E_SESSION_CONTAINER=()

# wait_session TAG [SECONDS]: until the session's commands ran (or it ended).
wait_session() {
  local tag=$1 limit; limit=$(e2e_limit "${2:-120}")
  local deadline=$(( $(clock_now) + limit ))
  until docker exec "${E2E_SESSION_CONTAINER[$tag]}" test -e "/tmp/ready-$tag" 2>/dev/null; do
    kill -0 "${E2E_SESSIONS[$tag]}" 2>/dev/null || fail "session $tag ended before its commands ran:
$(cat "session-$tag.transcript")"
    clock_before "$deadline" || fail "session $tag did not open within $limit s"
    sleep 2
  done
}

# release_session TAG: lets the session's shell exit, waits for it; the
# session's exit status is the status of the function.
release_session() {
  local tag=$1 rc=0
  docker exec "${E2E_SESSION_CONTAINER[$tag]}" touch "/tmp/release-$tag"
  wait "${E2E_SESSIONS[$tag]}" || rc=$?
  unset "E2E_SESSIONS[$tag]"
  return "$rc"
}

# end_session TAG: the session's driver is gone (its container was stopped or
# killed): collects its exit status without letting the shell go first.
end_session() {
  local rc=0
  wait "${E2E_SESSIONS[$1]}" || rc=$?
  unset "E2E_SESSIONS[$1]"
  return "$rc"
}
