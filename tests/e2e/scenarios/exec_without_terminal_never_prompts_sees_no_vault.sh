# `docker exec <c> sh -c …` without a terminal, as IDE agents and scripts do:
# it runs at once and never prompts, `tazpod login` refuses without a
# terminal, and even while a gated session has the vault open and a file in
# it, the ungated exec sees an empty ~/secrets.
# timeout: 900
# weight: 35
. /usr/lib/tazpod-test/e2e-lib.sh
start_container ungated_c
wait_docker_log ungated_c 'control.listen' 90

# shellcheck disable=SC2016 # expanded by the container's shell
out=$(timeout "$(e2e_limit 60)" docker exec ungated_c sh -c 'echo agent-$((40+2))' </dev/null)
expect_eq "$out" agent-42 "output of a plain non-interactive exec"

rc=0
out=$(timeout "$(e2e_limit 60)" docker exec ungated_c tazpod login </dev/null 2>&1) || rc=$?
echo "tazpod login without a terminal: exit $rc: $out"
[[ $rc -ne 0 ]] || fail "tazpod login without a terminal succeeded"
grep -qi 'passphrase:' <<<"$out" && fail "tazpod login without a terminal prompted: $out"

# A gated session keeps the vault open with a file in it while we look.
printf '%s\n' "expect New vault passphrase:
send $E2E_PASSPHRASE\\r
expect Repeat it:
send $E2E_PASSPHRASE\\r
expect \$ 
send echo top-secret > ~/secrets/token; touch /tmp/session-ready; echo ready-\$((40+2))\\r
expect ready-42
send while [ ! -e /tmp/session-done ]; do sleep 0.5; done; echo done-\$((40+2))\\r
timeout $(e2e_limit 240)
expect done-42
send exit\\r
wait" > session.script
/usr/lib/tazpod-test/ptydrive session.script -- docker exec -it ungated_c tazpod login 2>session.transcript &
drive_pid=$!
deadline=$(( $(clock_now) + $(e2e_limit 120) ))
until docker exec ungated_c test -e /tmp/session-ready; do
  clock_before "$deadline" || { kill "$drive_pid"; wait "$drive_pid" || true; cat session.transcript; fail "the gated session did not open"; }
  sleep 2
done

listing=$(docker exec ungated_c sh -c 'ls -A /home/dev/secrets; echo end')
expect_eq "$listing" end "what an ungated exec lists in ~/secrets while the vault is open"
expect_fails "ungated read of the vault's file" docker exec ungated_c cat /home/dev/secrets/token
expect_eq "$(kernel_attached ungated_c)" "mapping=yes loop=yes mount=yes" "the vault while the session is open"

# The session holds the vault open until told it may leave.
docker exec ungated_c touch /tmp/session-done
wait "$drive_pid" || fail "the gated session failed: $(cat session.transcript)"
cat session.transcript
