# Health tells the truth: `tazpod health` and /healthz answer at once while
# a slow unlock runs; an operation running past health.max_vault_operation
# turns them red with the reason; a vault helper killed half way (the vault
# goes to failed) keeps them red with that reason; `tazpod lock` recovers
# the vault and they are green again. /metrics and /status follow.
# timeout: 300
# weight: 19
write_init_config init.toml '[health]' 'max_vault_operation = "2s"'
sed -i 's/^pbkdf_memory_kib = 1024/pbkdf_memory_kib = 65536/' init.toml
start_init init.toml init.log
out=$(tazpod health) || fail "health of a fresh supervisor: $out"
[[ $out == "healthy: vault absent"* ]] || fail "health line: $out"
http_get /healthz > h.txt
head -n1 h.txt | grep -q '200 OK' || fail "/healthz of a fresh supervisor: $(cat h.txt)"
http_get /metrics > m.txt
grep -qx 'tazpod_vault_state{state="absent"} 1' m.txt || fail "/metrics: $(cat m.txt)"
grep -q '^tazpod_build_info{version="' m.txt || fail "no build info in /metrics"

printf 'slow passphrase\n' | tazpod vault unlock --passphrase-stdin > unlock.out 2>&1 &
wait_log init.log 'vault.state from=absent to=unlocking' 20
began=$(clock_now)
rc=0; out=$(tazpod health --timeout 5) || rc=$?
echo "health at once while unlocking: rc=$rc $out"
[[ $out == healthy:* || $out == *"running for"* ]] || fail "health while unlocking: $out"
# Past the 2 s limit the unlock counts as stuck.
red=""
while (( $(clock_now) - began < 30 )); do
  rc=0; out=$(tazpod health --timeout 5) || rc=$?
  if [[ $rc == 1 && $out == *"vault unlock running for"* ]]; then red=$out; break; fi
  grep -q 'vault.state from=unlocking to=unlocked' init.log && fail "the unlock ended before it counted as stuck: make the PBKDF slower"
  sleep 0.5
done
[[ -n $red ]] || fail "health never turned red for a stuck unlock: $out"
echo "stuck: $red"
http_get /healthz > h.txt
head -n1 h.txt | grep -q '503' || fail "/healthz during a stuck unlock: $(cat h.txt)"
grep -q 'running for' h.txt || fail "/healthz gives no reason: $(cat h.txt)"

# Every helper: the one running the unlock, and a pre-started one waiting.
killed=0
for exe in /proc/[0-9]*/exe; do
  if [[ $(readlink "$exe" 2>/dev/null) == */tazpod-vault-helper ]]; then
    pid=${exe%/exe}
    kill -KILL "${pid#/proc/}" && killed=$(( killed + 1 ))
  fi
done
(( killed > 0 )) || fail "no vault helper to kill"
wait_log init.log 'vault.state from=unlocking to=failed' 30
wait "$!" 2>/dev/null || true
rc=0; out=$(tazpod health) || rc=$?
expect_eq "$rc" 1 "tazpod health with a failed vault"
[[ $out == "unhealthy: vault failed"* ]] || fail "health line with a failed vault: $out"
http_get /status > s.txt
grep -q '"state":"failed"' s.txt || fail "/status with a failed vault: $(cat s.txt)"
http_get /metrics > m.txt
grep -qx 'tazpod_vault_state{state="failed"} 1' m.txt || fail "/metrics with a failed vault"
grep -qx 'tazpod_vault_unlocks_total{result="failed"} 1' m.txt || fail "the failed unlock was not counted: $(grep unlocks m.txt)"

tazpod lock || fail "tazpod lock of a failed vault"
rc=0; out=$(tazpod health) || rc=$?
expect_eq "$rc" 0 "tazpod health after recovery ($out)"
http_get /healthz > h.txt
head -n1 h.txt | grep -q '200 OK' || fail "/healthz after recovery: $(cat h.txt)"
grep -q 'slow passphrase' init.log m.txt s.txt && fail "the passphrase leaked"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
