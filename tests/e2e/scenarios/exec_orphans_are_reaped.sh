# Orphans of `docker exec` land on the container's PID 1 (the exec'd process
# is a child of the shim, outside the container's PID namespace, so its
# orphans are re-parented to the namespace's init), and tazpod init reaps
# them: after a burst of 60, none is left as a zombie.
# timeout: 720
# weight: 35
. /usr/lib/tazpod-test/e2e-lib.sh
start_container reap_c
wait_docker_log reap_c 'control.listen' 90

# Each subshell starts a sleep and exits at once: the sleep is orphaned.
# 12 s: long enough to still find them after the next docker exec, under load.
# Their output goes to /dev/null: an orphan holding the exec's stdout would
# keep `docker exec` waiting for it.
docker exec reap_c sh -c 'for i in $(seq 60); do (sleep 12 </dev/null >/dev/null 2>&1 &); done'
# Every process in the container as "PID (COMM) STATE PPID ...", straight
# from /proc (no ps needed; a process gone meanwhile is skipped).
procs() { docker exec reap_c sh -c 'cat /proc/[0-9]*/stat 2>/dev/null; true'; }
orphans=$(procs | awk '$2 == "(sleep)" && $4 == 1' | wc -l)
echo "orphaned sleeps with parent PID 1: $orphans"
(( orphans > 0 )) || fail "no orphan was re-parented to PID 1 (the burst did not happen?)"

deadline=$(( $(clock_now) + $(e2e_limit 60) ))
while :; do
  state=$(procs)
  # Done when no sleep runs any more; zombies among them are judged below.
  [[ -z $(awk '$2 == "(sleep)" && $3 != "Z"' <<<"$state") ]] && break
  clock_before "$deadline" || fail "the sleeps still run after $(e2e_limit 60) s: $state"
  sleep 2
done
zombies=$(awk '$3 == "Z"' <<<"$state")
if [[ -n $zombies ]]; then
  # One seen in the instant between its exit and PID 1's waitpid is no leak;
  # one still there seconds later is.
  sleep 3
  state=$(procs)
  zombies=$(awk '$3 == "Z"' <<<"$state")
fi
echo "processes in the container after the burst (pid, comm, state, ppid):"
awk '{print $1, $2, $3, $4}' <<<"$state"
expect_eq "$zombies" "" "zombies left after the burst"
# PID 1 says it reaped them (debug log, e2e-config.toml).
reaped=$(log_count reap_c 'init.reap.foreign')
echo "init.reap.foreign lines: $reaped"
(( reaped >= 60 )) || fail "PID 1 logged $reaped foreign reaps, fewer than the 60 orphans"
