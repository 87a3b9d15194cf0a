# Dockerfile.k8s and Dockerfile.gemini build on the base image with the real
# engine (scripts/build-images, SKIP_EXTERNAL_DOWNLOADS=1: the tools from
# outside Debian and npm are left out and listed), keep the family's
# ENTRYPOINT and HEALTHCHECK, and run: tazpod in each, the Gemini CLI from
# its npm lockfile in the gemini image.
# A cold run builds them here (Node.js and npm through install-tool from npm's
# registry, checked against images/tools.manifest; the CLI from its lockfile):
# under emulation that can take most of an hour.
# timeout: 4000
# lane: images (builds and runs images without a vault: guest/run-all)
. /usr/lib/tazpod-test/e2e-lib.sh
/mnt/e2e/guest/build-images gemini

for image in tazpod/k8s:latest tazpod/gemini:latest; do
  config=$(docker image inspect -f '{{json .Config.Entrypoint}} {{json .Config.Healthcheck.Test}}' "$image")
  expect_eq "$config" '["tazpod","init","--"] ["CMD","tazpod","health"]' "$image's ENTRYPOINT and HEALTHCHECK"
  version=$(docker run --rm --network none --entrypoint tazpod "$image" --version)
  echo "$image: $version"
  [[ $version == *"$TAZPOD_EXPECTED_VERSION"* ]] || fail "$image: tazpod --version says '$version', not $TAZPOD_EXPECTED_VERSION"
done

skipped=$(docker run --rm --network none --entrypoint cat tazpod/k8s:latest /usr/share/tazpod/skipped-tools | sort | tr '\n' ' ')
echo "skipped in tazpod/k8s: $skipped"
for tool in kubectl helm talosctl sops; do
  [[ " $skipped" == *" $tool "* ]] || fail "tazpod/k8s does not list $tool as skipped: $skipped"
done

gemini=$(docker run --rm --network none --entrypoint gemini tazpod/gemini:latest --version)
echo "gemini --version: $gemini"
expected=$(sed -n 's/.*"@google\/gemini-cli": *"\([0-9.]*\)".*/\1/p' /mnt/e2e/context/images/gemini/package.json | head -n 1)
expect_eq "$gemini" "$expected" "the Gemini CLI's version (images/gemini/package.json)"
