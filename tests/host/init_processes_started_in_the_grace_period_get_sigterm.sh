# A process started while the shutdown waits for others still gets SIGTERM,
# not only the SIGKILL at the end of the grace period (docs/init.md, step
# 5). Here the main child ignores SIGTERM in effect (its trap only notes
# it), then starts a process that ends on SIGTERM, saying so. Before, init
# listed processes again only once every one it waited for was gone: the
# new process got nothing but the SIGKILL.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
cd "$dir"

cat > main.sh <<'SH'
trap 'touch got-term' TERM
touch ready
while [[ ! -e got-term ]]; do sleep 0.05; done
bash -c 'trap "echo term > late-term; exit 0" TERM; touch late-ready; while :; do sleep 0.05; done' &
while :; do sleep 0.05; done
SH

start_init_ns init.log --grace-period 6s -- bash main.sh
for _ in $(seq 600); do [[ -e ready ]] && break; sleep 0.05; done
[[ -e ready ]] || fail "the main child did not start: $(cat init.log)"
kill -TERM "$NS_INIT"
for _ in $(seq 100); do [[ -e late-ready ]] && break; sleep 0.05; done
[[ -e late-ready ]] || fail "the late process did not start: $(cat init.log)"
wait_exit "$NS_UNSHARE"
[[ $(cat late-term 2>/dev/null) == term ]] ||
  fail "the process started during the grace period got no SIGTERM: $(cat init.log)"
grep -q 'init.shutdown.term.*late' init.log || fail "no init.shutdown.term line for the late round: $(cat init.log)"
# The main child held out to the end: killed after the grace period.
expect_eq "$EXIT_STATUS" 137 "exit status (the main child's SIGKILL)"
grep -q 'init.shutdown.kill' init.log || fail "no init.shutdown.kill: $(cat init.log)"
echo "ok: the late process ended on SIGTERM within the grace period"
