# `docker stop` while a gated session is open, its shell working inside the
# vault (so the lock has to end it as a holder): PID 1 locks the vault first
# (its log: the lock step ends before any process is sent SIGTERM), every process leaves within the grace period, the container exits
# with code 0 (docs/init.md: no main child, nobody SIGKILLed) rather than
# Docker's 137 after its own 10 s, and nothing of the vault is left attached
# on the (guest) kernel.
# timeout: 900
# weight: 30
. /usr/lib/tazpod-test/e2e-lib.sh
start_container stop_c
wait_docker_log stop_c 'control.listen' 90

open_session stop_c s1 FIRST 'cd ~/secrets && echo kept > note'
wait_session s1
expect_eq "$(kernel_attached stop_c)" "mapping=yes loop=yes mount=yes" "the vault while the session is open"

docker stop stop_c >/dev/null   # Docker's default grace period: 10 s
end_session s1 || true
cat session-s1.transcript

expect_eq "$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.State.OOMKilled}}' stop_c)" \
  "exited 0 false" "the container's state after docker stop"
docker logs stop_c > stop.log 2>&1
grep -nE 'init\.shutdown|vault\.state|vault\.holders|init\.exit' stop.log || true
line_of() { grep -nE "$1" stop.log | head -n 1 | cut -d: -f1; }
begin=$(line_of 'init.shutdown.begin reason=signal signal=SIGTERM')
locked=$(line_of 'vault.state from=locking to=locked')
step_done=$(line_of 'init.shutdown.step.done.* step=vault.lock')
term=$(line_of 'init.shutdown.term')
exit_line=$(line_of 'init.exit.* code=0( |$)')
[[ -n $begin && -n $locked && -n $step_done && -n $term && -n $exit_line ]] ||
  fail "missing shutdown lines (begin=$begin locked=$locked step_done=$step_done term=$term exit=$exit_line)"
(( begin < locked && locked < step_done && step_done < term && term < exit_line )) ||
  fail "shutdown out of order: begin=$begin locked=$locked step_done=$step_done term=$term exit=$exit_line"
grep -q 'init.shutdown.kill' stop.log && fail "processes had to be SIGKILLed after the grace period"
grep -q 'killed_after_grace=false' stop.log || fail "init.exit does not say killed_after_grace=false"
expect_eq "$(kernel_attached stop_c)" "mapping=no loop=no mount=no" "the vault after docker stop"
