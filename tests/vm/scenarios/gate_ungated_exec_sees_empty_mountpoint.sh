# The vault lives in a private mount namespace that only gated sessions
# join: while a session has the vault open and has written to it, a
# process started the way `docker exec` starts one (in the mount namespace
# of PID 1) sees an empty ~/secrets and no mount there, nor the enclave.
# The session itself sees its file.
# timeout: 300
# weight: 9
write_init_config init.toml
start_init init.toml init.log
grep -q 'vault.namespace.created' init.log || fail "no private mount namespace: $(cat init.log)"
printf '%s\n' 'expect New vault passphrase:' 'send namespaced passphrase\r' 'expect Repeat it:' \
  'send namespaced passphrase\r' 'expect $ ' \
  'send echo private > ~/secrets/note; grep -c " /home/dev/secrets " /proc/self/mounts; touch /tmp/written\r' \
  'send while [ ! -e /tmp/release ]; do sleep 0.2; done; exit\r' 'wait' > s.script
/usr/lib/tazpod-test/ptydrive s.script -- tazpod login 2> s.transcript & session=$!
deadline=$(( SECONDS + 120 ))
until [[ -e /tmp/written ]]; do
  (( SECONDS < deadline )) || fail "the session did not write its file: $(cat s.transcript)"
  sleep 0.2
done
expect_eq "$(ungated ls -A /home/dev/secrets)" "" "what an ungated exec sees in ~/secrets"
ungated grep -q ' /home/dev/secrets ' /proc/self/mounts && fail "the vault is mounted in PID 1's namespace"
ungated grep -q " $VAULT_ENCLAVE " /proc/self/mounts && fail "the enclave is mounted in PID 1's namespace"
expect_eq "$(in_vault_ns cat /home/dev/secrets/note)" private "the file, seen in the vault's namespace"
touch /tmp/release
wait "$session" || fail "session: $(cat s.transcript)"
cat s.transcript
wait_log init.log 'vault.state from=locking to=locked' 60
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the session"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/release /tmp/written
