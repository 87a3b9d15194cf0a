# tests/e2e/prepare-rootfs when debootstrap fails (no network, a bad
# mirror): it stops with a message naming the step and the tool's last log
# lines, and the cache is as it was: no half-built root filesystem, no
# `rootfs.qcow2` link to one, no staging folder, and the primed disk of an
# earlier run still there. A debootstrap on PATH stands in for Debian's:
# the first call (the root filesystem) or the second (the slim image) fails.
# (The empty folder of downloaded packages, debs/, may stay: a cache too;
# so does .lock, the empty file whose flock lets one run write at a time.)
. "$TAZPOD_HOST_LIB"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# A cache with a kernel (all prepare-rootfs reads of it: vmlinuz and the
# modules' release) and an earlier run's primed disk.
cache=$work/cache
mkdir -p "$cache/kernel/6.1-test/lib/modules/6.1.0-test" "$cache/e2e"
touch "$cache/kernel/6.1-test/vmlinuz"
ln -s 6.1-test "$cache/kernel/current"
echo "an earlier run's disk" > "$cache/e2e/primed-0123456789abcdef.qcow2"

# debootstrap stub: call N (counted in $work/calls) fails when N is
# $FAIL_AT, after a line of log; the others make the target folder.
mkdir "$work/bin"
cat > "$work/bin/debootstrap" <<'STUB'
#!/bin/bash
n=$(( $(cat "$STUB_CALLS" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$STUB_CALLS"
target=${@: -2:1}
if (( n == FAIL_AT )); then
  echo "E: Failed getting release file http://mirror.invalid/dists/bookworm/Release (call $n)"
  exit 1
fi
mkdir -p "$target/etc"
STUB
chmod +x "$work/bin/debootstrap"

for fail_at in 1 2; do
  rm -f "$work/calls"
  rc=0
  out=$(PATH="$work/bin:$PATH" TAZPOD_CACHE_DIR="$cache" TAZPOD_HOST_CA_DIR="$work/no-cas" \
        STUB_CALLS="$work/calls" FAIL_AT=$fail_at "$root/tests/e2e/prepare-rootfs" 2>&1) || rc=$?
  expect_eq "$rc" 1 "prepare-rootfs's exit status when debootstrap call $fail_at fails"
  case $fail_at in
    1) step="debootstrap of the root filesystem failed" ;;
    2) step="debootstrap of the slim image failed" ;;
  esac
  [[ $out == *"e2e: error: $step"* ]] || fail "no '$step' message; output:
$out"
  [[ $out == *"Failed getting release file"*"(call $fail_at)"* ]] || fail "the tool's own log lines are not shown; output:
$out"
  left=$(cd "$cache/e2e" && find . -mindepth 1 | sort | tr '\n' ' ')
  expect_eq "$left" "./.lock ./debs ./primed-0123456789abcdef.qcow2 " "the e2e cache after the failure at call $fail_at"
  echo "debootstrap failing at call $fail_at: '$step', the cache as it was"
done
