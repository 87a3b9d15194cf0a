# Two containers share one persistent volume. This one starts with no
# image there, so its vault is absent and its first login asks for a new
# passphrase twice; meanwhile the other container makes the vault with its
# own passphrase (and locks it). The first login's unlock, which may
# create, finds that image and the new passphrase does not open it: the
# user is told the vault was created meanwhile (exit 1), not "Wrong
# passphrase.", and is not throttled. The vault is locked after that one
# try, so the next login asks for the passphrase once and opens it with
# the other container's passphrase. Before, the chosen passphrase was
# counted as a wrong guess and the next login had to wait.
# timeout: 300
# weight: 14
mkdir -p /volume /run/share
mount -t tmpfs -o size=160m tmpfs /volume
# shellcheck disable=SC2034  # read by write_init_config
INIT_VAULT_LINES=('mode = "persistent"' 'image = "/volume/vault.img"' 'image_size = "48M"')
write_init_config init.toml
start_init init.toml init.log
grep -q 'vault.recover.done.*state=absent' init.log ||
  fail "this container's vault did not start absent: $(grep 'vault\.' init.log)"
rm -f /tmp/asked /tmp/go

printf '%s\n' 'timeout 120' 'expect New vault passphrase:' 'mark /tmp/asked' 'await /tmp/go' \
  'send this container passphrase\r' 'expect Repeat it:' 'send this container passphrase\r' 'wait' > first.script
/usr/lib/tazpod-test/ptydrive first.script -- tazpod login 2> first.transcript &
login=$!
wait_file /tmp/asked 60 "the first login's question" first.transcript

# The other container, with its own mapping and mount point, makes the
# vault on the shared volume while this login is at its prompt, and locks it.
(
  # shellcheck disable=SC2034  # read by scenario-lib.sh's vault helpers
  VAULT_NAME=tazpod-other VAULT_MNT=/run/share/other
  # shellcheck disable=SC2034
  VAULT_MODE_ARGS=(--mode persistent --image /volume/vault.img --image-size $((48 << 20)))
  printf 'the other container passphrase' > other.pass
  vault_expect 0 unlock <other.pass
  echo made-by-the-other > /run/share/other/who
  chown 1000:1000 /run/share/other/who
  vault_expect 0 lock
)
[[ -e /volume/vault.img ]] || fail "the other container made no image"

touch /tmp/go
rc=0; wait "$login" || rc=$?
echo "first login (exit $rc):"; cat first.transcript
expect_eq "$rc" 1 "the first login's exit status"
grep -q 'the vault was created meanwhile, by another login: log in again with its passphrase' first.transcript ||
  fail "the first login was not told why: $(cat first.transcript)"
grep -q 'Wrong passphrase' first.transcript && fail "the new passphrase was taken as a wrong guess"
grep -q 'gate.refused reason=made_meanwhile' init.log || fail "no gate.refused reason=made_meanwhile: $(grep 'gate\.' init.log)"
grep -q 'gate.refused reason=wrong_passphrase' init.log && fail "a wrong passphrase was counted: $(grep 'gate\.' init.log)"
wait_log init.log 'vault.state from=unlocking to=locked' 30
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the refused first login"

# Nobody waits, and the vault is no longer taken for new: the next login
# asks once, and the other container's passphrase opens it.
drive "$(printf '%s\n' 'timeout 120' 'expect Vault passphrase:' 'send the other container passphrase\r' \
  'expect $ ' 'send cat ~/secrets/who\r' 'expect made-by-the-other' 'send exit\r' 'wait')" -- tazpod login
expect_eq "$DRIVE_STATUS" 0 "the login with the vault's passphrase ($(cat drive.transcript))"
grep -q 'Too soon\|Next attempt' drive.transcript && fail "the login after the refusal was throttled: $(cat drive.transcript)"

wait_log_count init.log 'vault.state from=locking to=locked' 1 120
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the last session exited"
kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
rm -f /tmp/asked /tmp/go other.pass
umount /volume
