# Docker's default capabilities (and compose.yaml's: default + SYS_ADMIN) do
# not include CAP_SYS_PTRACE, which root needs to look into another user's
# /proc/PID/fd, cwd and maps. A lock run without it must still find the
# user's processes that hold the vault and end them, and unmount cleanly.
# timeout: 180
# weight: 8
no_ptrace() { setpriv --bounding-set -sys_ptrace --inh-caps -sys_ptrace "$@"; }
# shellcheck disable=SC2016  # an awk program
effective=$(no_ptrace awk '/^CapEff/ {print $2}' /proc/self/status)
(( (0x$effective >> 19) & 1 )) && fail "CAP_SYS_PTRACE still effective: $effective"

printf 'pw' | vault_expect 0 unlock
# Each holder leaves a mark once it holds the vault; the lock waits for all
# of them (a fixed sleep was too short for a loaded guest).
as_dev bash -c "cd $VAULT_MNT && : > cwd.ready && exec sleep 1000" & cwd_holder=$!
as_dev bash -c "exec 3>$VAULT_MNT/open.txt; exec sleep 1000" & file_holder=$!
as_dev bash -c "exec 3<$VAULT_MNT; : > $VAULT_MNT/dir.ready; exec sleep 1000" & dir_holder=$!
holders_ready() { [[ -e $VAULT_MNT/cwd.ready && -e $VAULT_MNT/open.txt && -e $VAULT_MNT/dir.ready ]]; }
for _ in $(seq 600); do holders_ready && break; nap 0.1; done
holders_ready || fail "the holders did not all start within 60 s"
vault_args
rc=0
out=$(no_ptrace "$VAULT_HELPER" lock "${VAULT_ARGS[@]}" </dev/null) || rc=$?
echo "lock without CAP_SYS_PTRACE: $out (exit $rc)"
expect_eq "$rc" 0 "lock's exit status"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after lock"
# Each was ended by the lock. (A background job is the shell's copy
# running as_dev, which may outlive its command for a moment.)
for pid in $cwd_holder $file_holder $dir_holder; do
  for _ in $(seq 50); do [[ -e /proc/$pid/exe ]] || break; nap 0.1; done
  [[ -e /proc/$pid/exe ]] && fail "holder $pid was not ended: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
  wait "$pid" 2>/dev/null || true
done
vault_remove_enclave
