# The crash points (vault/crash_point.h) are in the test-only helper and
# nowhere in the product: the installed helper and tazpod itself carry no
# trace of the file that arms them, while the test build does (so the
# search would find it).
. "$TAZPOD_HOST_LIB"
: "${TAZPOD_VAULT_HELPER:?}" "${TAZPOD_VAULT_HELPER_CRASH:?}"
marker=/run/tazpod-crash/point
grep -qaF "$marker" "$TAZPOD_VAULT_HELPER_CRASH" || fail "the test helper has no crash points: is the search broken?"
for binary in "$TAZPOD_VAULT_HELPER" "$TAZPOD"; do
  if grep -qaF -e "$marker" -e "crash point" "$binary"; then fail "$binary has crash points"; fi
done
echo "ok: crash points only in $(basename "$TAZPOD_VAULT_HELPER_CRASH")"
