# PID 1 without CAP_IPC_LOCK under a 64 KiB RLIMIT_MEMLOCK (a container
# that is not privileged, on a host with the usual limit): every passphrase
# it reads takes a locked page. Twenty of the workstation user's connections
# (of the 23 it may hold beside root's waiting unlock) each send a
# `gate.passwd` that must wait while the vault is busy; before, each held a
# page until answered, more than the limit, and root's login was told
# "cannot lock memory". Now PID 1 holds two of the user's at once and
# refuses the rest, and root's login gets in.
# timeout: 300
# weight: 24
mkdir -p /opt/hooks
cat > /opt/hooks/hold <<'SH'
#!/bin/bash
# Keeps the vault busy (unlocking) until the scenario lets it go.
while [[ ! -e /tmp/release-hold ]]; do sleep 0.1; done
SH
chmod 0755 /opt/hooks/hold
write_init_config init.toml
sed -i 's|^\[vault\]$|[vault]\nunlock_hooks = ["/opt/hooks/hold"]|' init.toml
bash -c 'ulimit -l 64 && exec setpriv --inh-caps=-ipc_lock --bounding-set=-ipc_lock tazpod init --config init.toml' \
  2>init.log &
INIT_PID=$!
wait_log init.log 'vault.recover.(done|failed)' 60
wait_log init.log 'control.listen' 10
cap_eff=$(awk '/^CapEff:/ {print $2}' "/proc/$INIT_PID/status")
(( (0x$cap_eff >> 14) & 1 )) && fail "PID 1 has CAP_IPC_LOCK ($cap_eff): its locked memory is not limited"
grep 'Max locked memory' "/proc/$INIT_PID/limits"
locked_kb() { awk '/^VmLck:/ {print $2}' "/proc/$INIT_PID/status"; }

touch /tmp/release-hold
printf 'the right passphrase\n' | tazpod vault unlock --passphrase-stdin
tazpod vault lock
rm /tmp/release-hold

# Root's unlock, held busy by its hook: what comes next must wait.
printf 'the right passphrase\n' | tazpod vault unlock --passphrase-stdin > unlock.out &
unlocker=$!
wait_log init.log 'vault.state from=locked to=unlocking' 30

header='{"v":1,"op":"gate.passwd"}'
old='not the passphrase' new='a new passphrase'
secret_hex="$(text_hex "$old")00$(text_hex "$new")"
request=$(printf '%08x%s%08x%s' "${#header}" "$(text_hex "$header")" $(( ${#old} + 1 + ${#new} )) "$secret_hex")
pokes=()
for i in $(seq 20); do
  (as_dev_exec /usr/lib/tazpod-test/ctlpoke /run/tazpod/control.sock "$request" > "poke.$i" 2>&1) &
  pokes+=($!)
done
refusals() { grep -l 'too many passphrases' poke.* 2>/dev/null | wc -l; }
eighteen_refused() { (( $(refusals) == 18 )); }
wait_until 60 eighteen_refused || fail "the user's passphrases refused: $(refusals), expected 18 of 20"

printf '%s\n' 'timeout 200' 'expect Vault passphrase:' 'send the right passphrase\r' 'expect Unlocking...' \
  'mark /tmp/login-sent' 'expect $ ' 'send exit\r' 'wait' > login.script
/usr/lib/tazpod-test/ptydrive login.script -- tazpod login 2> login.transcript & driver=$!
wait_file /tmp/login-sent 60 "root's passphrase sent" login.transcript
nap 0.5
# The user's two, and root's if PID 1 has read it by now: without the cap
# this is the 64 KiB the limit allows.
echo "PID 1's locked memory while the user's and root's passphrases wait: $(locked_kb) kB"
(( $(locked_kb) <= 12 )) || fail "PID 1 holds $(locked_kb) kB of locked memory, more than three passphrases"

touch /tmp/release-hold
rc=0; wait "$driver" || rc=$?
cat login.transcript
expect_eq "$rc" 0 "root's login while the user's passphrases waited"
grep -q 'cannot lock memory' login.transcript && fail "root's login was refused locked memory"
rc=0; wait "$unlocker" || rc=$?
expect_eq "$rc" 0 "root's unlock held by its hook"
wait "${pokes[@]}" || true
for i in $(seq 20); do grep -q 'too many passphrases' "poke.$i" || echo "poke $i: $(cat "poke.$i")"; done
grep -q 'cannot lock memory' poke.* && fail "a passphrase of the user's was refused locked memory: $(cat poke.*)"

kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release-hold /tmp/login-sent
