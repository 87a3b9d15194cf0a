# The vault lives in a private mount namespace that only gated sessions
# join: while a session has the vault open and has written to it, a
# process started the way `docker exec` starts one (in the mount namespace
# of PID 1) sees an empty ~/secrets and no mount there, nor the enclave.
# The session itself sees its file. Through the session's /proc/PID/root,
# another user, or root without CAP_SYS_PTRACE, cannot reach it; `dev`
# itself can (the kernel lets a user inspect its own processes): that limit
# is in docs/threat-model.md, and checked here so that the page stays true.
# timeout: 300
# weight: 21
write_init_config init.toml
start_init init.toml init.log
grep -q 'vault.namespace.created' init.log || fail "no private mount namespace: $(cat init.log)"
printf '%s\n' 'expect New vault passphrase:' 'send namespaced passphrase\r' 'expect Repeat it:' \
  'send namespaced passphrase\r' 'expect $ ' \
  'send echo private > ~/secrets/note; grep -c " /home/dev/secrets " /proc/self/mounts; touch /tmp/written\r' \
  'send while [ ! -e /tmp/release ]; do sleep 0.2; done; exit\r' 'wait' > s.script
/usr/lib/tazpod-test/ptydrive s.script -- tazpod login 2> s.transcript & session=$!
deadline=$(( $(clock_now) + 120 ))
until [[ -e /tmp/written ]]; do
  clock_before "$deadline" || fail "the session did not write its file: $(cat s.transcript)"
  sleep 0.2
done
expect_eq "$(ungated ls -A /home/dev/secrets)" "" "what an ungated exec sees in ~/secrets"
ungated grep -q ' /home/dev/secrets ' /proc/self/mounts && fail "the vault is mounted in PID 1's namespace"
ungated grep -q " $VAULT_ENCLAVE " /proc/self/mounts && fail "the enclave is mounted in PID 1's namespace"
expect_eq "$(in_vault_ns cat /home/dev/secrets/note)" private "the file, seen in the vault's namespace"
shell=$(grep -o 'session.open pid=[0-9]*' init.log | head -n 1)
note=/proc/${shell##*=}/root/home/dev/secrets/note
ungated setpriv --reuid=65534 --regid=65534 --clear-groups cat "$note" 2>/dev/null &&
  fail "another user read the vault through $note"
ungated setpriv --bounding-set=-sys_ptrace cat "$note" 2>/dev/null &&
  fail "root without CAP_SYS_PTRACE read the vault through $note"
expect_eq "$(ungated setpriv --reuid=1000 --regid=1000 --clear-groups cat "$note")" private \
  "what dev, ungated, reads through its own session's /proc/PID/root (the documented limit)"
touch /tmp/release
wait "$session" || fail "session: $(cat s.transcript)"
cat s.transcript
wait_log init.log 'vault.state from=locking to=locked' 60
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the session"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release /tmp/written
