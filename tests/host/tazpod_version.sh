# `tazpod --version` prints the project version and exits 0; `--help` names
# the program; an unknown option is a usage error (exit 2).
. "$TAZPOD_HOST_LIB"

expect_eq "$("$TAZPOD" --version)" "tazpod $TAZPOD_EXPECTED_VERSION" "tazpod --version"
"$TAZPOD" --help | grep -q '^tazpod' || fail "--help does not start with the program name"
rc=0
"$TAZPOD" --no-such-option 2>/dev/null || rc=$?
expect_eq "$rc" 2 "exit status of an unknown option"
echo "ok: version, help and usage errors"
