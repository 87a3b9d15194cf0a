# A malformed file, an unknown key or a bad value stops init at start with
# exit 2 and a message naming the file, the line and the key; no main child
# is started.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"

check() {  # check WHAT FILE_CONTENT EXPECTED_MESSAGE_PART
  printf '%s' "$2" > cfg.toml
  rc=0
  "$TAZPOD" init --config cfg.toml -- touch started 2>err || rc=$?
  expect_eq "$rc" 2 "$1: exit status"
  grep -qF "$3" err || fail "$1: message does not contain '$3': $(cat err)"
  [[ ! -e started ]] || fail "$1: the main child was started"
  expect_eq "$(wc -l < err)" 1 "$1: lines of error output"
}
check "unknown key" $'[init]\ngrace = "1s"\n' "cfg.toml:2:1: init.grace: unknown key"
check "bad value" $'[init]\n\ngrace_period = "soon"\n' "cfg.toml:3:"
check "bad value names the key" $'[init]\n\ngrace_period = "soon"\n' "init.grace_period"
check "malformed TOML" $'[init\n' "cfg.toml:1:"
check "unknown section" $'[inits]\n' "cfg.toml:1:2: inits: unknown section"
check "unknown vault key" $'[vault]\nsize = 5\n' "vault.size: unknown key"
check "reserved section key" $'[health]\nport = 5\n' "health.port: unknown key"
# A quoted key's escapes make control bytes after the file's own check: the
# message stays one line, and no terminal escape reaches stderr.
check "a key with a newline" $'[init]\n"x\\nfake: ok" = 1\n' 'cfg.toml:2:1: init.x\x0afake: ok: unknown key'
check "a key with a terminal escape" $'[vault]\n"\\u001b[2J" = 1\n' 'vault.\x1b[2J: unknown key'
# Names the kernel's device-mapper refuses, refused here, at start.
for name in . .. control "$(printf 'a%.0s' {1..128})"; do
  check "mapping_name $name" "$(printf '[vault]\nmapping_name = "%s"\n' "$name")" "cfg.toml:2:16: vault.mapping_name:"
done
check "rewrite of a signal never forwarded" $'[init]\nsignal_rewrite = { SIGSTOP = "SIGTERM" }\n' \
  "cfg.toml:2:30: init.signal_rewrite.SIGSTOP: init never forwards this signal"

rc=0
"$TAZPOD" init --config /nonexistent/tazpod.toml -- true 2>err || rc=$?
expect_eq "$rc" 2 "missing --config file"
grep -q '/nonexistent/tazpod.toml:0:0: configuration file not found' err || fail "missing file not named: $(cat err)"
# Named by $TAZPOD_CONFIG instead (a Kubernetes ConfigMap that was not
# mounted, say): as explicit as --config, so just as fatal.
rc=0
TAZPOD_CONFIG=/nonexistent/from-env.toml "$TAZPOD" init -- touch started-from-env 2>err || rc=$?
expect_eq "$rc" 2 "missing \$TAZPOD_CONFIG file"
grep -q '/nonexistent/from-env.toml:0:0: configuration file not found' err || fail "missing file not named: $(cat err)"
[[ ! -e started-from-env ]] || fail "the command ran although the file named by \$TAZPOD_CONFIG is missing"

# Flags are checked as strictly. An empty value is refused, not taken as
# absent (`--pdeathsig=$SIG` with SIG unset), and so is a signal that
# belongs to glibc (32 and 33).
flag_check() {  # flag_check WHAT EXPECTED_MESSAGE_PART FLAG...
  local what=$1 message=$2
  shift 2
  rc=0
  "$TAZPOD" init "$@" -- touch started-by-flags 2>err || rc=$?
  expect_eq "$rc" 2 "$what: exit status"
  grep -qF -e "$message" err || fail "$what: message does not contain '$message': $(cat err)"
  [[ ! -e started-by-flags ]] || fail "$what: the main child was started"
}
for flag in --pdeathsig --grace-period --forward-delay --log-format --log-level --config; do
  flag_check "$flag=" "$flag: empty value" "$flag="
done
flag_check "-p ''" "--pdeathsig: empty value" -p ''
flag_check "-p 32" "--pdeathsig 32: unknown signal" -p 32
flag_check "-r 33:15" "--rewrite 33:15: expected SIGNAL:SIGNAL" -r 33:15
# An option init does not know is refused, not run as the command: a
# misspelt one would otherwise start the container with exit 127.
flag_check "--grace-perod 8s" "The following argument was not expected: --grace-perod" --grace-perod 8s
flag_check "-x" "The following argument was not expected: -x" -x
flag_check "-gx" "The following argument was not expected: -gx" -gx
# After the command's first argument, every one is the command's.
# shellcheck disable=SC2016  # $0 is the command's, expanded by its sh
"$TAZPOD" init sh -c 'touch "$0"' started-with-dashes --no-such-option 2>err ||
  fail "a dash argument of the command's refused: $(cat err)"
[[ -e started-with-dashes ]] || fail "the command given dash arguments did not run"
# The real-time signals after them are signals like any other.
"$TAZPOD" init -p 34 -r 34:15 -- true 2>err ||
  fail "-p 34 -r 34:15 refused: $(cat err)"

# A good file is applied: log_format = "json" gives JSON lines.
printf '[init]\nlog_format = "json"\ngrace_period = "2s"\n' > good.toml
"$TAZPOD" init --config good.toml -- true 2>err
head -n1 err | grep -q '^{"time":"' || fail "log_format=json not applied: $(head -n1 err)"
echo "ok: configuration errors"
