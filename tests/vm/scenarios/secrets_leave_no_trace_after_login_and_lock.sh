# Secret hygiene, proven on the running processes: canary passphrases typed
# through a real PTY (a first login that creates the vault, a wrong one, a
# right one) are afterwards absent from the memory of every tazpod process
# (PID 1, the vault helpers, the login client become the user's shell), from
# PID 1's log, the audit log, and the argv and environment of every process;
# after lock, a plaintext canary written into ~/secrets is in no file of any
# memory-backed mount (the enclave's image included). While the login
# client holds the passphrase it is mlocked, held once, and the client, like
# PID 1 and the helper, writes no core file and cannot be read by a process
# of the same user and capabilities (it is not dumpable).
#
# PID 1 and the logins run without CAP_SYS_PTRACE, as under Docker's default
# capabilities (compose.yaml adds SYS_ADMIN only): with it, any reader would
# pass ptrace's checks and dumpability could not be observed.
# timeout: 400
# weight: 127
readonly LIB=/usr/lib/tazpod-test
nocap=(setpriv --inh-caps=-sys_ptrace --bounding-set=-sys_ptrace)
hex() { head -c "$1" /dev/urandom | od -An -tx1 | tr -d ' \n'; }
pass="Canary-pass-$(hex 8)"
wrong="Canary-wrong-$(hex 8)"
half=${pass:0:20}
# The plaintext canary is only ever typed in two pieces ("PLAIN""-TAG"), so
# neither the drive script nor the transcript holds it whole.
tag=$(hex 8)
# Needles live in files: in argv they would be copies in /proc/*/cmdline.
printf '%s' "$pass" > pass.needle
printf '%s' "$wrong" > wrong.needle
printf '%s' "$half" > half.needle
printf 'PLAIN-%s' "$tag" > plain.needle
audit=/tmp/hygiene-audit.log
rm -f "$audit" /tmp/unlock-held
trap '[[ $? -eq 0 ]] || { echo "---- init.log (last lines)"; tail -n 40 init.log; }' EXIT

# tazpod_pids: every process running our binaries (PID 1, helpers, a login
# client before it becomes the shell).
tazpod_pids() {
  local exe p
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    [[ $exe == /usr/bin/tazpod || $exe == "$VAULT_HELPER" ]] && echo "${p#/proc/}"
  done
  return 0
}

# indent PREFIX TEXT
indent() { local l; while IFS= read -r l; do echo "  $1: $l"; done <<<"$2"; }

# no_copy_in_memory NEEDLE WHEN PID...: memscan must read each and find nothing.
no_copy_in_memory() {
  local needle=$1 when=$2 rc=0 out
  shift 2
  out=$("$LIB/memscan" "$needle" "$@") || rc=$?
  indent "$when" "$out"
  case $rc in
    0) ;;
    1) fail "$when: a copy of $needle in memory: $(grep '^hit' <<<"$out")" ;;
    *) fail "$when: memscan could not scan every process (exit $rc)" ;;
  esac
}

# nowhere_in_logs_or_procs NEEDLE WHEN: not in PID 1's log, the audit log,
# nor in any process's argv or environment.
nowhere_in_logs_or_procs() {
  local needle=$1 when=$2 f files=0
  ! grep -qF -f "$needle" init.log "$audit" || fail "$when: $needle is in the logs"
  for f in /proc/[0-9]*/cmdline /proc/[0-9]*/environ; do
    [[ -r $f ]] || continue
    files=$(( files + 1 ))
    ! grep -qaF -f "$needle" "$f" 2>/dev/null || fail "$when: $needle in $f ($(tr '\0' ' ' < "${f%/*}/cmdline"))"
  done
  (( files > 10 )) || fail "$when: only $files argv/environ files read"
  echo "  $when: $needle in neither log nor in $files argv/environ files"
}

# protected WHAT PID: no core file, and not readable by a process with the
# same uid and capabilities (non-dumpable), unlike the dumpable control.
protected() {
  expect_eq "$(awk '/^Max core file size/ {print $5}' "/proc/$2/limits")" 0 "$1: core size limit"
  if "${nocap[@]}" cat "/proc/$2/environ" > /dev/null 2>&1; then
    fail "$1 (pid $2) is dumpable: its environment is readable without CAP_SYS_PTRACE"
  fi
  echo "  $1 (pid $2): core limit 0, not dumpable"
}

# An unlock hook that holds the unlock while /tmp/hold-unlock exists, so
# the processes can be looked at while PID 1 unlocks (step 3).
mkdir -p /opt/hooks
cat > /opt/hooks/hold-if-asked <<'SH'
#!/bin/bash
[[ -e /tmp/hold-unlock ]] || exit 0
touch /tmp/unlock-held
while [[ -e /tmp/hold-unlock ]]; do sleep 0.1; done
SH
chmod 0755 /opt/hooks/hold-if-asked
rm -f /tmp/hold-unlock /tmp/unlock-held
write_init_config init.toml 'throttle_base = "200ms"' '[health]' "audit_log = \"$audit\""
sed -i 's|^\[vault\]$|[vault]\nunlock_hooks = ["/opt/hooks/hold-if-asked"]|' init.toml
"${nocap[@]}" tazpod init --config init.toml 2>init.log &
INIT_PID=$!
wait_log init.log 'vault.recover.(done|failed)' 60
wait_log init.log 'control.listen' 10
cap_eff=$(awk '/^CapEff:/ {print $2}' "/proc/$INIT_PID/status")
(( (0x$cap_eff >> 19) & 1 )) && fail "PID 1 has CAP_SYS_PTRACE ($cap_eff): dumpability cannot be observed"
# The control: the same uid and capabilities, dumpable: its environment reads.
"${nocap[@]}" sleep 1000 &
control=$!
# Until setpriv has exec'd sleep, the process still has CAP_SYS_PTRACE.
until [[ $(cat "/proc/$control/comm") == sleep ]]; do sleep 0.1; done
"${nocap[@]}" cat "/proc/$control/environ" > /dev/null || fail "the dumpable control is unreadable: the check proves nothing"

# A vault left by an earlier scenario would make this a plain login.
expect_eq "$(tazpod vault status)" "state=absent busy=false" "the vault before the first login"

# ---- 1. The first login creates the vault; inspected at the prompt and in the shell.
# shellcheck disable=SC2016  # text for ptydrive and the guest's shell
printf '%s\n' 'expect New vault passphrase:' "send $half" "mark $PWD/at-prompt" "await $PWD/go-on" \
  "send ${pass:20}\\r" 'expect Repeat it:' "send $pass\\r" 'expect Vault open at' 'expect $ ' \
  "send echo \"PLAIN\"\"-$tag\" > ~/secrets/plain; echo written-\$((6*7))\\r" 'expect written-42' \
  "mark $PWD/in-shell" "await $PWD/go-exit" 'send exit\r' 'wait' > first.script
"${nocap[@]}" "$LIB/ptydrive" first.script -- tazpod login 2> first.transcript &
driver=$!
wait_file at-prompt 300 "the login prompt (ptydrive's mark)" ./*.transcript
client=$(cat at-prompt)
echo "at the prompt: login client $client holds half the passphrase"
vmlck=$(awk '/^VmLck:/ {print $2}' "/proc/$client/status")
(( vmlck > 0 )) || fail "the login client locks no memory while it holds the passphrase (VmLck ${vmlck} kB)"
echo "  VmLck ${vmlck} kB"
protected "login client at the prompt" "$client"
rc=0
out=$("$LIB/memscan" half.needle "$client") || rc=$?
indent "at the prompt" "$out"
expect_eq "$rc" 1 "memscan of the login client for the half typed (the scanner's positive control)"
expect_eq "$(grep -c '^hit' <<<"$out")" 1 "copies of the half typed in the login client"
grep -q '^hit .* region=anon$' <<<"$out" || fail "the half typed is not in an anonymous mapping (SecretBuffer)"
touch go-on

wait_file in-shell 300 "the shell (ptydrive's mark)" ./*.transcript
shell=$(cat in-shell)
expect_eq "$shell" "$client" "the shell is the login client after exec"
expect_eq "$(in_vault_ns grep -cF -f "$PWD/plain.needle" "$VAULT_MNT/plain")" 1 "the plaintext canary in the open vault"
mapfile -t pids < <(tazpod_pids)
echo "tazpod processes with the session open: ${pids[*]}"
[[ " ${pids[*]} " == *" $INIT_PID "* ]] || fail "PID 1 is not among them"
helpers=()
for p in "${pids[@]}"; do [[ $p == "$INIT_PID" ]] || helpers+=("$p"); done
protected "PID 1" "$INIT_PID"
for p in ${helpers[@]+"${helpers[@]}"}; do protected "helper $(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-60)" "$p"; done
no_copy_in_memory pass.needle "first session open" "${pids[@]}" "$shell"
nowhere_in_logs_or_procs pass.needle "first session open"
touch go-exit
wait "$driver" || fail "the first login failed: $(cat first.transcript)"
! grep -qF -f pass.needle first.transcript || fail "the passphrase was echoed"
wait_log_count init.log 'vault.state from=locking to=locked' 1 60
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the first session"

# ---- 2. Locked: the plaintext canary is in no memory-backed file.
mapfile -t pids < <(tazpod_pids)
no_copy_in_memory pass.needle "locked" "${pids[@]}"
# Both mount namespaces: the guest's, and the vault's private one, where the
# enclave's tmpfs is. One find and one grep per mount (an exec costs
# 100-200 ms in the guest); the needles themselves are left out.
cat > scan-files.sh <<'SH'
needle=$1 files=0 bytes=0 hits=''
while read -r mnt type; do
  find "$mnt" -xdev -type f ! -name '*.needle' -print0 2>/dev/null > "$needle.list"
  n=$(tr -cd '\0' < "$needle.list" | wc -c)
  [ "$n" -gt 0 ] || continue
  files=$(( files + n ))
  bytes=$(( bytes + $(xargs -0 stat -c %s < "$needle.list" | awk '{s += $1} END {print s + 0}') ))
  hits="$hits$(xargs -0 grep -lF -f "$needle" < "$needle.list")"
done < <(awk '$3 == "tmpfs" || $3 == "ramfs" || $3 == "rootfs" {print $2, $3}' /proc/self/mounts | sort -u)
rm -f "$needle.list"
echo "$files $bytes $(grep -c " $2 " /proc/self/mounts)"
[ -z "$hits" ] || { echo "$hits"; exit 1; }
SH
for where in guest vault; do
  rc=0
  if [[ $where == guest ]]; then out=$(bash scan-files.sh "$PWD/plain.needle" "$VAULT_ENCLAVE") || rc=$?
  else out=$(in_vault_ns bash "$PWD/scan-files.sh" "$PWD/plain.needle" "$VAULT_ENCLAVE") || rc=$?; fi
  read -r files bytes enclave <<<"$out"
  [[ $rc -eq 0 ]] || fail "after lock the plaintext canary is in (namespace: $where): $(tail -n +2 <<<"$out")"
  (( files > 50 )) || fail "only $files files on memory-backed mounts were read (namespace: $where)"
  echo "locked: the plaintext canary is in none of $files files ($(( bytes >> 20 )) MiB) on memory-backed mounts (namespace: $where; enclave mounted here: $enclave)"
done
expect_eq "$enclave" 1 "the enclave's tmpfs among the mounts searched in the vault's namespace"
in_vault_ns test -s "$VAULT_ENCLAVE/vault.img" || fail "no enclave image at $VAULT_ENCLAVE/vault.img"

# ---- 3. A wrong passphrase, then the right one (an unlock, not a creation).
printf '%s\n' 'expect Vault passphrase:' "send $wrong\\r" 'expect Wrong passphrase.' 'wait' > wrong.script
rc=0
"${nocap[@]}" "$LIB/ptydrive" wrong.script -- tazpod login 2> wrong.transcript || rc=$?
expect_eq "$rc" 1 "exit status of the wrong login: $(cat wrong.transcript)"
mapfile -t pids < <(tazpod_pids)
no_copy_in_memory wrong.needle "after a wrong passphrase" "${pids[@]}"
nowhere_in_logs_or_procs wrong.needle "after a wrong passphrase"
sleep 0.5  # the throttle's delay (200 ms) after the wrong one
# shellcheck disable=SC2016  # text for ptydrive
printf '%s\n' 'expect Vault passphrase:' "send $pass\\r" 'expect Unlocking...' "mark $PWD/unlocking" 'expect $ ' \
  "mark $PWD/in-shell2" "await $PWD/go-exit2" 'send exit\r' 'wait' > second.script
touch /tmp/hold-unlock
"${nocap[@]}" "$LIB/ptydrive" second.script -- tazpod login 2> second.transcript &
driver=$!
# The login client sent the passphrase and waits for the unlock, which
# its hook holds: it has no use for the passphrase now, and neither PID 1
# nor the helper (which wiped it before the hooks) holds it either.
wait_file unlocking 300 "the login's wait (ptydrive's mark)" ./*.transcript
wait_file /tmp/unlock-held 300 "the unlock hook's start" ./*.transcript
mapfile -t pids < <(tazpod_pids)
no_copy_in_memory pass.needle "while the unlock hook runs" "${pids[@]}"
[[ " ${pids[*]} " == *" $(cat unlocking) "* ]] || fail "the waiting login client $(cat unlocking) was not scanned"
rm /tmp/hold-unlock
wait_file in-shell2 300 "the second shell (ptydrive's mark)" ./*.transcript
mapfile -t pids < <(tazpod_pids)
no_copy_in_memory pass.needle "second session open" "${pids[@]}" "$(cat in-shell2)"
nowhere_in_logs_or_procs pass.needle "second session open"
touch go-exit2
wait "$driver" || fail "the second login failed: $(cat second.transcript)"
wait_log_count init.log 'vault.state from=locking to=locked' 2 60
mapfile -t pids < <(tazpod_pids)
no_copy_in_memory pass.needle "locked again" "${pids[@]}"
no_copy_in_memory wrong.needle "locked again" "${pids[@]}"

kill -TERM "$INIT_PID"; wait "$INIT_PID" || true
kill "$control"; wait "$control" 2>/dev/null || true
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached at the end"
vault_remove_enclave
rm -f "$audit" /tmp/unlock-held
