# An idle init sleeps in the kernel: no context switch at all, in any of its
# threads, over 3 seconds (no polling timer, no periodic work), with and
# without a main child.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"
# Every thread's (init has two: the event loop's and the signal thread).
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'; }

for mode in idle child; do
  if [[ $mode == idle ]]; then start_init_ns "$mode.log"; else start_init_ns "$mode.log" -- sleep 1000; fi
  sleep 0.5
  before=$(switches "$NS_INIT")
  sleep 3
  after=$(switches "$NS_INIT")
  expect_eq "$(( after - before ))" 0 "context switches of an idle init ($mode) over 3 s"
  kill -TERM "$NS_INIT"
  wait_exit "$NS_UNSHARE"
done
echo "ok: zero wake-ups when idle"
