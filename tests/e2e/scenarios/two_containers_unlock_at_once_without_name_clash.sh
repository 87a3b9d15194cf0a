# Two TazPod containers on one engine, with Docker's default hostnames (their
# ids, as users get them), unlock at the same time: two logins running side
# by side each get their own device-mapper mapping (tazpod-<hostname>), each
# sees only its own vault, and both lock again at their last exit.
# timeout: 1080
# weight: 70
. /usr/lib/tazpod-test/e2e-lib.sh
E2E_DEFAULT_HOSTNAME=1 start_container twin_a
E2E_DEFAULT_HOSTNAME=1 start_container twin_b
host_a=$(docker inspect -f '{{.Config.Hostname}}' twin_a)
host_b=$(docker inspect -f '{{.Config.Hostname}}' twin_b)
echo "hostnames: $host_a $host_b"
wait_docker_log twin_a 'control.listen' 90
wait_docker_log twin_b 'control.listen' 90

# Both first logins (create, format, open, mkfs, mount) start together.
open_session twin_a a FIRST 'echo from-a > ~/secrets/who'
open_session twin_b b FIRST 'echo from-b > ~/secrets/who'
wait_session a 180
wait_session b 180

# Each container's own: its mapping, one loop device, the mount (scenarios
# in other lanes may have vaults of their own open meanwhile).
expect_eq "${E2E_MAPPING[twin_a]} ${E2E_MAPPING[twin_b]}" "tazpod-$host_a tazpod-$host_b" "the mappings' names"
expect_eq "$(kernel_attached twin_a)" "mapping=yes loop=yes mount=yes" "twin_a's vault on the kernel"
expect_eq "$(kernel_attached twin_b)" "mapping=yes loop=yes mount=yes" "twin_b's vault on the kernel"
loops_a=$(e2e_loops twin_a) loops_b=$(e2e_loops twin_b)
echo "loop devices: twin_a $loops_a, twin_b $loops_b"
expect_eq "$(wc -w <<<"$loops_a $loops_b")" 2 "loop devices of the two vaults"
[[ $loops_a != "$loops_b" ]] || fail "both vaults on one loop device: $loops_a"
for log in twin_a twin_b; do
  docker logs "$log" 2>&1 | grep -E 'vault.state .*to=(unlocked|failed)' || true
done

for tag in a b; do
  release_session "$tag" || fail "session $tag failed: $(cat "session-$tag.transcript")"
done
grep -q 'Vault open' session-a.transcript || fail "twin_a's login did not open its vault: $(cat session-a.transcript)"
grep -q 'Vault open' session-b.transcript || fail "twin_b's login did not open its vault: $(cat session-b.transcript)"

# Each vault holds its own file only (read through a second login each).
for pair in twin_a:from-a twin_b:from-b; do
  name=${pair%%:*}
  wait_docker_log "$name" 'vault.state from=locking to=locked' 90
  drive "$(login_script AGAIN)
expect \$ 
send cat ~/secrets/who; echo end-\$((40+2))\\r
expect end-42
send exit\\r
wait" -- docker exec -it "$name" tazpod login
  expect_eq "$DRIVE_STATUS" 0 "exit status of the second login in $name"
  # Without the terminal's control sequences: the image's bash turns
  # bracketed paste off (ESC [?2004l) at the start of the output's line.
  expect_eq "$(sed -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\r//g' drive.transcript | grep -E '^from-[ab]$')" \
    "${pair#*:}" "the file in $name's vault"
done
for name in twin_a twin_b; do
  wait_docker_log "$name" 'vault.state from=locking to=locked' 90 2
done
expect_eq "$(kernel_attached twin_a)" "mapping=no loop=no mount=no" "twin_a's vault after both locked"
expect_eq "$(kernel_attached twin_b)" "mapping=no loop=no mount=no" "twin_b's vault after both locked"
