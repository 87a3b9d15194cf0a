# deploy/k8s/ validates against the Kubernetes API schemas
# (kubernetes-models, tests/static/check-k8s-manifests.js), and keeps what
# TazPod needs in a pod: HTTP probes on /healthz and /readyz at the port the
# ConfigMap's [health] listen names, a memory-backed emptyDir at the RAM
# enclave, root and SYS_ADMIN. A broken manifest must be rejected.
. "$TAZPOD_HOST_LIB"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
modules=$(tests/prepare-static-checks)

node tests/static/check-k8s-manifests.js "$modules" deploy/k8s/*.yaml ||
  fail "deploy/k8s/ does not validate (above)"

for f in tests/static/bad/*.k8s.yaml; do
  expected=$(sed -n 's/^# expect: //p' "$f")
  [[ -n $expected ]] || fail "$f has no '# expect:' line"
  rc=0
  out=$(node tests/static/check-k8s-manifests.js "$modules" "$f") || rc=$?
  expect_eq "$rc" 1 "checker's exit status on $f"
  grep -qF -- "$expected" <<<"$out" || fail "$f: expected '$expected', got: $out"
done
echo "ok: deploy/k8s/ validates; broken manifests are rejected"
