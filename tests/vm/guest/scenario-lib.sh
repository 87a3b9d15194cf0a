# Helpers for vm scenarios, sourced before each scenario runs (in the guest).
# Scenarios run under `set -euo pipefail`: any failing command fails the
# scenario. Use these to say what was expected when a check fails.

fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
  [[ $1 == "$2" ]] || fail "$3: expected '$2', got '$1'"
}

# expect_fails WHAT CMD...: CMD must exit non-zero; prints its status.
expect_fails() {
  local what=$1 rc=0
  shift
  "$@" || rc=$?
  [[ $rc -ne 0 ]] || fail "$what: '$*' succeeded but must fail"
  echo "$what: refused as expected (exit $rc)"
  return 0
}

# Cheap LUKS2 settings for tests: PBKDF benchmarking dominates under software
# emulation, so iterations are forced and the keyslot area is small.
LUKS_TEST_OPTS=(--type luks2 --pbkdf argon2id --pbkdf-force-iterations 4
                --pbkdf-memory 1024 --pbkdf-parallel 1
                --luks2-metadata-size 16k --luks2-keyslots-size 512k)

# make_passfile PATH TEXT: a key file without a trailing newline.
make_passfile() { printf '%s' "$2" > "$1"; chmod 0600 "$1"; }

# dm_target NAME: the device-mapper target type of mapping NAME, as the
# kernel reports it (e.g. "crypt").
dm_target() { dmsetup table "$1" | awk '{print $3}'; }
