# Docker's default capabilities (and compose.yaml's: default + SYS_ADMIN) do
# not include CAP_SYS_PTRACE, which root needs to look into another user's
# /proc/PID/fd, cwd and maps. A lock run without it must still find the
# user's processes that hold the vault and end them, and unmount cleanly.
# Two agents hold it where it cannot look (one not dumpable, as ssh-agent
# makes itself, one in a user namespace of its own): the unmount stays
# busy, and the last resort ends the user's processes whose mount
# namespace mounts the vault, and only those.
# timeout: 180
# weight: 19
no_ptrace() { setpriv --bounding-set -sys_ptrace --inh-caps -sys_ptrace "$@"; }
# shellcheck disable=SC2016  # an awk program
effective=$(no_ptrace awk '/^CapEff/ {print $2}' /proc/self/status)
(( (0x$effective >> 19) & 1 )) && fail "CAP_SYS_PTRACE still effective: $effective"

printf 'pw' | vault_expect 0 unlock
# The user's process in a mount namespace without the vault: the last
# resort leaves it alone.
start_outsider
# Each holder leaves a mark once it holds the vault; the lock waits for all
# of them (a fixed sleep was too short for a loaded guest).
as_dev_exec bash -c "cd $VAULT_MNT && : > cwd.ready && exec sleep 1000" & cwd_holder=$!
as_dev_exec bash -c "exec 3>$VAULT_MNT/open.txt; exec sleep 1000" & file_holder=$!
as_dev_exec bash -c "exec 3<$VAULT_MNT; : > $VAULT_MNT/dir.ready; exec sleep 1000" & dir_holder=$!
as_dev_exec /usr/lib/tazpod-test/sockbind --not-dumpable "$VAULT_MNT/agent.sock" & agent=$!
as_dev_exec unshare --user --map-root-user --net /usr/lib/tazpod-test/sockbind "$VAULT_MNT/netns-agent.sock" &
netns_agent=$!
# Its main thread has exited (what is left of it is root's to look at, and
# shows nothing: no reason to say it is unseen); its other thread, which
# works in the vault, is the owner's to look at.
as_dev_exec /usr/lib/tazpod-test/threadcwd "$VAULT_MNT" 2>threadcwd.err & thread_holder=$!
# Holds nothing in the vault, yet lives where it is mounted.
as_dev_exec sleep 1000 & idle=$!
holders_ready() {
  [[ -e $VAULT_MNT/cwd.ready && -e $VAULT_MNT/open.txt && -e $VAULT_MNT/dir.ready && -S $VAULT_MNT/agent.sock &&
     -S $VAULT_MNT/netns-agent.sock ]] && runs_as_dev "$idle" sleep && grep -q 'thread in' threadcwd.err &&
    grep -q '^State:[[:space:]]*Z' "/proc/$thread_holder/status"
}
wait_until 60 holders_ready || fail "the holders did not all start within 60 s"
lock_keeping_stderr no_ptrace
for pid in $agent $netns_agent; do
  grep -Eq "cannot look into pid $pid \\((Operation not permitted|Permission denied)\\)" lock.err ||
    fail "the helper did not say that it could not look into $pid"
done
# The search found and ended the holders it may look into (through the
# owner's file-system ids); the last resort ended the rest.
ended=$(last_resort_pids lock.err)
[[ -n $ended ]] || fail "the last resort was not said"
for pid in $agent $netns_agent $idle; do
  [[ $ended == *" $pid "* ]] || fail "the last resort did not end $pid (it ended:$ended)"
done
for pid in $cwd_holder $file_holder $dir_holder $thread_holder; do
  [[ $ended == *" $pid "* ]] && fail "holder $pid was left to the last resort: the search did not find it"
done
grep -q "cannot look into pid $thread_holder " lock.err && fail "the exited main thread of $thread_holder was said unseen"
for pid in $cwd_holder $file_holder $dir_holder $agent $netns_agent $idle $thread_holder; do
  wait_until 5 gone "$pid" || fail "process $pid was not ended: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
  wait "$pid" 2>/dev/null || true
done
[[ -e /proc/$OUTSIDER/exe ]] || fail "the user's process outside the vault's namespace was ended"
kill "$OUTSIDER"
wait "$OUTSIDER" 2>/dev/null || true
vault_remove_enclave
