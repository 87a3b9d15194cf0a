# ptydrive, the vm and e2e scenarios' terminal typist, refuses a script
# step it does not know (a misspelt or indented one) and an expect with no
# text, exit 64, rather than skip it: either would drop a check unseen and
# let the scenario pass. A good script, with an empty line, still runs.
. "$TAZPOD_HOST_LIB"
cd "$(mktemp -d)"

refused() {  # refused WHAT SCRIPT EXPECTED_MESSAGE
  printf '%s\n' "$2" > bad.script
  rc=0
  "$TAZPOD_PTYDRIVE" bad.script -- sh -c 'echo hello; sleep 5' 2>err || rc=$?
  expect_eq "$rc" 64 "$1: exit status"
  grep -qF -- "$3" err || fail "$1: no '$3' in: $(cat err)"
}
refused "a misspelt step" $'expcet hello\nwait' 'ptydrive: unknown step "expcet"'
refused "an indented step" $' expect hello\nwait' 'ptydrive: unknown step ""'
refused "an expect with no text" $'expect\nwait' 'ptydrive: expect with no text'

printf '%s\n' 'expect hello' '' 'send bye\r' 'expect bye' 'wait' > good.script
rc=0
# shellcheck disable=SC2016  # the inner shell's own $line
"$TAZPOD_PTYDRIVE" good.script -- sh -c 'echo hello; read -r line; echo "$line"; exit 3' 2>err || rc=$?
expect_eq "$rc" 3 "a good script: the program's exit status ($(cat err))"
echo "ok: ptydrive refuses what would drop a check"
