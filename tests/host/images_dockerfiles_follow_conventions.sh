# The image family's Dockerfiles parse and keep their conventions, with no
# Docker engine (tests/static/check-dockerfiles.js says which): exec-form
# ENTRYPOINT running tazpod init, HEALTHCHECK CMD ["tazpod", "health"],
# STOPSIGNAL SIGTERM, no USER, ARG CACHEBUST right before the dotfiles COPY,
# every download checked against a SHA-256 or an npm lockfile, and nothing
# the classic builder of Debian's docker.io cannot build. Each file in
# tests/static/bad/ breaks one convention: the checker must reject it with
# the message its "# expect:" line names, so a checker that passes
# everything fails here.
. "$TAZPOD_HOST_LIB"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
modules=$(tests/prepare-static-checks)

node tests/static/check-dockerfiles.js "$modules" Dockerfile.base Dockerfile.k8s Dockerfile.gemini ||
  fail "the Dockerfiles break a convention (above)"

bad=0
for f in tests/static/bad/*.Dockerfile; do
  bad=$((bad + 1))
  expected=$(sed -n 's/^# expect: //p' "$f")
  [[ -n $expected ]] || fail "$f has no '# expect:' line"
  rc=0
  out=$(node tests/static/check-dockerfiles.js "$modules" "$f") || rc=$?
  expect_eq "$rc" 1 "checker's exit status on $f"
  grep -qF -- "$expected" <<<"$out" || fail "$f: expected a problem containing '$expected', got: $out"
done
(( bad >= 10 )) || fail "only $bad bad Dockerfiles found"
echo "ok: 3 Dockerfiles keep the conventions; $bad broken ones are rejected"
