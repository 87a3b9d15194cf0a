# Every shell script in the repository passes shellcheck (Debian's package),
# with the project's settings in .shellcheckrc. A shell script is a *.sh file
# or a file whose first line is a sh or bash shebang; the files are git's
# (tracked, or new and not ignored), so build output and caches are skipped.
# Files without a shebang are run or sourced by bash (the host tier, the
# guest's run-scenario) and are checked as bash; the others as their shebang
# says (images/install-tool is POSIX sh: /bin/sh in the image is dash).
. "$TAZPOD_HOST_LIB"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
command -v shellcheck >/dev/null || fail "shellcheck is not installed (scripts/setup installs it)"

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  listing=$(git ls-files --cached --others --exclude-standard)
else
  listing=$(find . -path ./build -prune -o -path ./.git -prune -o -type f -print | sed 's|^\./||')
fi
with_shebang=() without_shebang=()
while IFS= read -r f; do
  [[ -f $f ]] || continue
  if head -n1 "$f" | grep -qE '^#!.*[/ ](ba)?sh([[:space:]]|$)'; then
    with_shebang+=("$f")
  elif [[ $f == *.sh ]]; then
    head -n1 "$f" | grep -q '^#!' && fail "$f: a .sh file with a shebang that is not sh or bash"
    without_shebang+=("$f")
  fi
done <<<"$listing"
total=$(( ${#with_shebang[@]} + ${#without_shebang[@]} ))
(( total >= 20 )) || fail "found only $total shell scripts: is the listing broken?"

rc=0
shellcheck "${with_shebang[@]}" || rc=1
shellcheck --shell=bash "${without_shebang[@]}" || rc=1
(( rc == 0 )) || fail "shellcheck found problems (above) in the repository's shell scripts"
echo "ok: shellcheck passes on $total shell scripts"
