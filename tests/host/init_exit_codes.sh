# tazpod init exits with the main child's status: its exit code, 128+N when it
# died of signal N, 127 when the command is not found, 126 when it cannot be
# executed (each with one line naming the command), and 0 for a code listed
# with --expect-exit.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"

run() { local rc=0; unshare --pid --fork --mount-proc "$TAZPOD" init "$@" 2>log || rc=$?; echo "$rc"; }

expect_eq "$(run -- sh -c 'exit 0')" 0 "exit 0"
expect_eq "$(run -- sh -c 'exit 3')" 3 "exit 3"
expect_eq "$(run -- sh -c 'exit 255')" 255 "exit 255"
expect_eq "$(run -- sh -c 'kill -USR1 $$')" 138 "killed by SIGUSR1 (128+10)"
expect_eq "$(run -- sh -c 'kill -KILL $$')" 137 "killed by SIGKILL (128+9)"

# The messages need init to see its vfork child's exec fail, which
# ThreadSanitizer's runtime prevents: it turns vfork into fork.
messages=1
if [[ ${TAZPOD_SANITIZED:-} == tsan ]]; then
  messages=0
  echo "skipped under TSan: the exec_failed messages (its runtime turns vfork into fork)"
fi
expect_eq "$(run -- no-such-command-tazpod)" 127 "command not found"
if (( messages )); then
  grep -q 'init.child.exec_failed command=no-such-command-tazpod' log || fail "no message naming the missing command: $(cat log)"
  expect_eq "$(grep -c exec_failed log)" 1 "lines about the missing command"
fi

printf 'not a program\n' > notexec && chmod 0644 notexec
expect_eq "$(run -- ./notexec)" 126 "file not executable"
if (( messages )); then
  grep -q 'command=./notexec' log || fail "no message naming the non-executable command: $(cat log)"
fi

expect_eq "$(run --expect-exit 143 -- sh -c 'kill -TERM $$')" 0 "--expect-exit 143 remaps SIGTERM's 143 to 0"
expect_eq "$(run -e 7 -- sh -c 'exit 7')" 0 "-e 7"
expect_eq "$(run -e 7 -- sh -c 'exit 8')" 8 "-e 7 leaves 8 alone"
# A failed exec's 127 or 126 is the main child's code like any other: -e
# remaps it, as tini's does.
expect_eq "$(run -e 127 -- no-such-command-tazpod)" 0 "-e 127 remaps a command not found"
expect_eq "$(run -e 126 -- ./notexec)" 0 "-e 126 remaps a command that cannot be executed"
expect_eq "$(run -e 126 -- no-such-command-tazpod)" 127 "-e 126 leaves a command not found alone"
# One value per -e, as tini's getopt reads it: repeated for more, and the
# command may follow without "--".
expect_eq "$(run -e 7 -e 9 sh -c 'exit 9')" 0 "-e 7 -e 9, the command without --"
expect_eq "$(run -e 7 sh -c 'exit 9')" 9 "-e 7 takes one value: the command is the next word"
expect_eq "$(run -r USR1:USR2 sh -c 'exit 4')" 4 "-r S:R, the command without --"

# Started by a parent that ignores SIGCHLD (which exec keeps): the kernel
# would reap init's children itself and never tell it, so the main child's
# exit would go unseen. Init takes SIGCHLD back.
rc=0
timeout 10 unshare --pid --fork --mount-proc python3 -c '
import os, signal, sys
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
os.execv(sys.argv[1], [sys.argv[1], "init", "--", "sh", "-c", "exit 6"])' "$TAZPOD" 2>log || rc=$?
expect_eq "$rc" 6 "exit status of init started with SIGCHLD ignored, main child exiting 6"

# Without "--": tini's style, the first positional starts the command.
expect_eq "$(run sh -c 'exit 4')" 4 "command without --"
# Usage errors are 2, before anything starts.
expect_eq "$(run --pause -- true)" 2 "--pause with a command"
expect_eq "$(run --grace-period soon -- true)" 2 "bad --grace-period"
# Only `tazpod init` takes a command after "--"; another subcommand may end
# its arguments with one, and nothing may follow it.
rc=0; "$TAZPOD" status -- x 2>err || rc=$?
expect_eq "$rc" 2 "tazpod status -- x"
grep -qF 'arguments after "--" are only for' err || fail "no reason given: $(cat err)"
rc=0; "$TAZPOD" -- status 2>err || rc=$?
expect_eq "$rc" 2 "tazpod -- status"
rc=0; "$TAZPOD" vault --help -- >/dev/null 2>err || rc=$?
expect_eq "$rc" 0 "tazpod vault --help -- (a last \"--\" is allowed): $(cat err)"
# A rewrite of a signal init never forwards would silently do nothing.
expect_eq "$(run -r SIGCHLD:SIGTERM -- touch started)" 2 "-r of SIGCHLD"
grep -q -- '--rewrite SIGCHLD:SIGTERM: init never forwards this signal' log || fail "no reason given: $(cat log)"
[[ ! -e started ]] || fail "the command ran after a refused --rewrite"
expect_eq "$(run -r 9:15 -- true)" 2 "-r of SIGKILL"
# Too few descriptors for init's event loop (a tiny RLIMIT_NOFILE): init
# cannot supervise, so it kills the main child it started and exits 1,
# saying why; it never aborts, and never leaves the child behind. (Not PID
# 1 here, so that a child left running would show.) With a few more
# descriptors it runs, without the components that found none.
if [[ -n ${TAZPOD_SANITIZED:-} ]]; then
  # Their runtimes test memory through a pipe: without descriptors to
  # spare, UBSan reports every virtual call as a bad one.
  echo "skipped under the sanitizers: init with too few descriptors"
else
  marker="2.$$"  # the main child's sleep, told apart from any other
  start_failed=0
  for limit in 5 6 7 8 9; do
    rc=0
    prlimit --nofile=$limit "$TAZPOD" init -- sleep "$marker" 2>log || rc=$?
    # Too few for the dynamic loader itself:
    # init never ran.
    [[ $rc -eq 127 ]] && grep -q 'error while loading shared libraries' log && continue
    [[ $rc -eq 0 || $rc -eq 1 ]] || fail "RLIMIT_NOFILE $limit: exit $rc: $(cat log)"
    if [[ $rc -eq 1 ]]; then
      grep -q 'init.start.failed' log || fail "RLIMIT_NOFILE $limit: exit 1 without init.start.failed: $(cat log)"
      pgrep -fx "sleep $marker" >/dev/null && fail "RLIMIT_NOFILE $limit: the main child was left running"
      grep -q 'init.start.failed call="event loop"' log && start_failed=1
    fi
  done
  (( start_failed )) || fail "no RLIMIT_NOFILE from 5 to 9 made the event loop fail"
fi

# A "--" inside the command is the command's own (`npm run dev -- --host`):
# only a "--" where an option of init could stand ends init's options.
expect_eq "$(run sh -c 'exit $#' x -- a b)" 3 "a -- after the command started is one of its arguments"
expect_eq "$(run sh -c 'exit $#' x a --)" 2 "a trailing -- is one of the command's arguments"
expect_eq "$(run -- sh -c 'exit $#' x -- a)" 2 "the first -- ends init's options, the second is the command's"
echo "ok: exit codes"
