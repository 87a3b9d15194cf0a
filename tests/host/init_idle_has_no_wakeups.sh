# An idle init sleeps in the kernel: no context switch at all, in any of its
# threads, over 3 seconds (no polling timer, no periodic work), with and
# without a main child, and after its timers have run.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"
# Every thread's (init has two: the event loop's and the signal thread).
switches() { cat /proc/"$1"/task/*/status | awk '/ctxt_switches/ {n += $2} END {print n}'; }
# expect_asleep WHAT: the init in the namespace switches not once in 3 s;
# then it is stopped.
expect_asleep() {
  local before after
  before=$(switches "$NS_INIT")
  sleep 3
  after=$(switches "$NS_INIT")
  expect_eq "$(( after - before ))" 0 "context switches of an idle init ($1) over 3 s"
  kill -TERM "$NS_INIT"
  wait_exit "$NS_UNSHARE"
}

for mode in idle child; do
  if [[ $mode == idle ]]; then start_init_ns "$mode.log"; else start_init_ns "$mode.log" -- sleep 1000; fi
  sleep 0.5
  expect_asleep "$mode"
done
# An init whose timers have run sleeps the same way, and for good: every
# timerfd it holds is disarmed. (Asio's steady_timer left its reactor's
# timerfd armed five minutes ahead once any timer had been used, and armed
# again each time it fired: one wake-up every five minutes, forever, which
# no few seconds of watching can see. common/kernel_timer.h.)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > health.toml <<TOML
[init]
log_level = "debug"
$(cat "$TAZPOD_CONFIG")
TOML
sed -i "s|^http = false$|http = true\nlisten = \"127.0.0.1:$port\"\nread_timeout = \"1s\"|" health.toml
grep -q "listen = \"127.0.0.1:$port\"" health.toml || fail "could not turn the endpoint on: $(cat health.toml)"
start_init_ns timers.log --config health.toml -- sleep 1000
wait_for_log timers.log 'health.http.listen'
# One answered request (a read deadline set, then cancelled), one that sends
# nothing (its read deadline expires), one idle keep-alive closed by us.
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
reply=$(cat <&3)
exec 3<&-
[[ $reply == "HTTP/1.1 200"* ]] || fail "no answer from /healthz: $reply"
exec 3<>"/dev/tcp/127.0.0.1/$port"
wait_for_log timers.log 'health.http.timeout phase=read' 10
exec 3<&-
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&3
read -r -t 5 status <&3 || fail "no answer on the keep-alive connection"
[[ $status == "HTTP/1.1 200"* ]] || fail "keep-alive answer: $status"
exec 3<&-
armed() {
  local fd
  for fd in /proc/"$NS_INIT"/fd/*; do
    [[ $(readlink "$fd") == *timerfd* ]] || continue
    grep -q '^it_value: (0, 0)$' /proc/"$NS_INIT"/fdinfo/"${fd##*/}" || echo "${fd##*/}: $(grep it_value /proc/"$NS_INIT"/fdinfo/"${fd##*/}")"
  done
}
deadline=$(( $(clock_now) + 10 ))
until [[ -z $(armed) ]]; do
  clock_before "$deadline" || fail "timers still armed in an idle init: $(armed)"
  sleep 0.1
done
expect_asleep "its timers run"
echo "ok: zero wake-ups when idle"
