# `scripts/build-images --cachebust` (CACHEBUST=<now>) rebuilds Dockerfile.base
# from the same context as the harness's build, with the same builder
# (BuildKit, guest/build-images): every step before the dotfiles comes from
# the engine's cache ("#N CACHED" in BuildKit's plain log), the RUN that
# records CACHEBUST runs again, and so does the dotfiles COPY after it.
# timeout: 900
# lane: images (builds and runs images without a vault: guest/run-all)
. /usr/lib/tazpod-test/e2e-lib.sh
cleanup_images() { docker rmi e2ecb/base:latest e2ecb/base:cachebust >/dev/null 2>&1 || true; }
trap cleanup_images EXIT
cd /mnt/e2e/context
DOCKER_BUILDKIT=1 scripts/build-images --prefix e2ecb --tag cachebust --cachebust --prebuilt prebuilt \
  --skip-external-downloads --docker-arg=--network=host --docker-arg=--progress=plain base > "$OLDPWD/build.log" 2>&1 ||
  fail "the CACHEBUST build failed: $(tail -n 30 "$OLDPWD/build.log")"
cd "$OLDPWD"
cp build.log "$E2E_RESULTS/cachebust-build.log"

# One line per step: "STAGE<TAB>X<TAB>INSTRUCTION<TAB>HOW", from BuildKit's
# "#N [STAGE X/Y] INSTRUCTION" header and the "#N CACHED" or "#N DONE" that
# ends step N; HOW is `cached`, `built`, `none` for a FROM (no layer of its
# own) or `unfinished`. Instructions without a layer (ENV, ARG, ENTRYPOINT,
# ...) are no BuildKit steps at all.
awk '
  /^#[0-9]+ \[[^]]+ [0-9]+\/[0-9]+\] / {
    if (!($1 in stage)) {
      order[++n] = $1
      stage[$1] = substr($2, 2)
      split($3, xy, "/"); pos[$1] = xy[1]
      instr[$1] = substr($0, index($0, "] ") + 2)
    }
    next
  }
  $2 == "CACHED" { cached[$1] = 1 }
  $2 == "DONE" { done[$1] = 1 }
  END {
    for (i = 1; i <= n; i++) {
      id = order[i]
      how = cached[id] ? "cached" : instr[id] ~ /^FROM / ? "none" : done[id] ? "built" : "unfinished"
      print stage[id] "\t" pos[id] "\t" instr[id] "\t" how
    }
  }' build.log > steps
cat steps
[[ -s steps ]] || fail "no build steps found in the log: $(tail -n 20 build.log)"
bust=$(grep $'\tRUN echo "dotfiles layer' steps | head -n 1)
[[ -n $bust ]] || fail "the build has no dotfiles RUN"
bust_stage=$(cut -f1 <<<"$bust") bust_pos=$(cut -f2 <<<"$bust")
before=$(awk -F'\t' -v s="$bust_stage" -v p="$bust_pos" '$1 != s || $2 < p' steps)
after=$(awk -F'\t' -v s="$bust_stage" -v p="$bust_pos" '$1 == s && $2 >= p' steps)
expect_eq "$(awk -F'\t' '$4 != "cached" && $4 != "none"' <<<"$before")" "" \
  "steps before the dotfiles (and of the other stages) that were not taken from the cache"
cached=$(awk -F'\t' '$4 == "cached"' <<<"$before" | wc -l)
(( cached >= 10 )) || fail "only $cached steps came from the cache"
expect_eq "$(cut -f4 <<<"$after" | sort -u | tr '\n' ' ')" "built " "the dotfiles RUN and every step after it"
echo "$cached steps from the cache, then $(wc -l <<<"$after") rebuilt"
