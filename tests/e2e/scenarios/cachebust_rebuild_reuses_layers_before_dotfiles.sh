# `scripts/build-images --cachebust` (CACHEBUST=<now>) rebuilds Dockerfile.base
# from the same context as the harness's build: every step before the
# dotfiles comes from the engine's cache ("Using cache" in the classic
# builder's log), the RUN that records CACHEBUST runs again, and so does the
# dotfiles COPY after it.
# timeout: 900
# lane: images (builds and runs images without a vault: guest/run-all)
. /usr/lib/tazpod-test/e2e-lib.sh
cleanup_images() { docker rmi e2ecb/base:latest e2ecb/base:cachebust >/dev/null 2>&1 || true; }
trap cleanup_images EXIT
cd /mnt/e2e/context
scripts/build-images --prefix e2ecb --tag cachebust --cachebust --prebuilt prebuilt \
  --skip-external-downloads --docker-arg=--network=host base > "$OLDPWD/build.log" 2>&1 ||
  fail "the CACHEBUST build failed: $(tail -n 30 "$OLDPWD/build.log")"
cd "$OLDPWD"
cp build.log "$E2E_RESULTS/cachebust-build.log"

# One line per step: "N<TAB>INSTRUCTION<TAB>HOW", HOW being `cached`, `built`,
# or `none` for a FROM and a global ARG before it (no layer to cache).
awk '
  function flush() { if (n) print n "\t" step "\t" (cached ? "cached" : (step ~ /^FROM / || !layer) ? "none" : "built") }
  /^Step [0-9]+\/[0-9]+ : / { flush(); n++; step = substr($0, index($0, " : ") + 3); cached = 0; layer = 0; next }
  /^ ---> Using cache/ { cached = 1 }
  /^ ---> / { layer = 1 }
  END { flush() }' build.log > steps
cat steps
[[ -s steps ]] || fail "no build steps found in the log: $(tail -n 20 build.log)"
bust=$(grep -n $'\tRUN echo "dotfiles layer' steps | head -n 1 | cut -d: -f1)
[[ -n $bust ]] || fail "the build has no dotfiles RUN"
before_built=$(head -n $(( bust - 1 )) steps | awk -F'\t' '$3 == "built"')
expect_eq "$before_built" "" "steps before the dotfiles that were not taken from the cache"
cached=$(head -n $(( bust - 1 )) steps | awk -F'\t' '$3 == "cached"' | wc -l)
(( cached >= 10 )) || fail "only $cached steps came from the cache"
after=$(tail -n +"$bust" steps | awk -F'\t' '{print $3}' | sort -u | tr '\n' ' ')
expect_eq "$after" "built " "the dotfiles RUN and every step after it"
echo "$cached steps from the cache, then $(tail -n +"$bust" steps | wc -l) rebuilt"
