# The main child starts with every signal at its default disposition,
# whatever init inherited, and with the signal mask init started with (as
# tini does), not the one init runs with: a parent (a shell's `trap ''`,
# nohup, a runtime) may start init with signals ignored, which exec keeps,
# and init blocks every signal it handles. The child here is cat, which
# touches no signal, so its /proc/self/status shows what init left it.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"

# start_with_ignored SIGNALS... -- INIT_ARGS...: runs init as PID 1 of a fresh
# PID namespace from a parent that ignores SIGNALS (numbers) and blocks
# SIGUSR2; prints the main child's SigIgn, SigCgt and SigBlk lines.
start_with_ignored() {
  local ignored=()
  while [[ $1 != -- ]]; do ignored+=("$1"); shift; done
  shift
  timeout 20 unshare --pid --fork --mount-proc python3 -c '
import os, signal, sys
sep = sys.argv.index("--")
for number in sys.argv[2:sep]:
    signal.signal(int(number), signal.SIG_IGN)
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR2})
os.execv(sys.argv[1], [sys.argv[1], "init"] + sys.argv[sep + 1:])' "$TAZPOD" "${ignored[@]}" -- "$@" 2>log \
    | grep -E '^Sig(Ign|Cgt|Blk):' || fail "no status from the main child (log: $(cat log))"
}

zero=0000000000000000
# SIGUSR2 (12), blocked by init's parent, stays blocked; nothing else.
expected=$(printf 'SigBlk:\t%016x\nSigIgn:\t%s\nSigCgt:\t%s' $(( 1 << 11 )) $zero $zero)

# The check is real: without init between them, cat keeps what the parent set.
# SIGHUP 1, SIGINT 2, SIGQUIT 3, SIGUSR1 10, SIGPIPE 13, SIGTERM 15, SIGTTOU 22, SIGRTMIN+3 37;
# and SIGXFSZ 25, which Python ignores itself (as it does SIGPIPE), so every
# init started below inherits at least two ignored signals.
direct=$(timeout 20 python3 -c '
import os, signal
for number in (1, 2, 3, 10, 13, 15, 22, 37):
    signal.signal(number, signal.SIG_IGN)
os.execvp("cat", ["cat", "/proc/self/status"])' | grep '^SigIgn:')
expect_eq "$direct" "$(printf 'SigIgn:\t%016x' $(( (1 << 0) | (1 << 1) | (1 << 2) | (1 << 9) | (1 << 12) | (1 << 14) | (1 << 21) | (1 << 24) | (1 << 36) )))" \
  "cat's ignored signals when its parent ignores them"

expect_eq "$(start_with_ignored -- -- cat /proc/self/status)" "$expected" \
  "the main child's signals, init started with only Python's SIGPIPE and SIGXFSZ ignored"
expect_eq "$(start_with_ignored 1 2 3 10 13 15 22 37 -- -- cat /proc/self/status)" "$expected" \
  "the main child's signals, init started with nine signals ignored"
# The same through init's other ways to start the child.
expect_eq "$(start_with_ignored 1 2 15 37 -- -g -- cat /proc/self/status)" "$expected" \
  "the main child's signals with -g"

echo "main child starts with default dispositions and the mask init was given"
