# Helpers for host-tier tests (sourced). Tests run as root on the build
# machine; $TAZPOD is the freshly built binary.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_eq() { [[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"; }
: "${TAZPOD:?TAZPOD must name the tazpod binary (set by CTest)}"
