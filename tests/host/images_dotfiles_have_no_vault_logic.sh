# The dotfiles COPYed into the images hold no vault, unlock or prompt logic:
# only `tazpod login` opens the vault, and shells that tools start without a
# terminal must never prompt or block (DESIGN.md: the .bashrc trap of earlier
# attempts fired on every agent shell). Also checks that the dotfiles' shell
# files are quiet and quick when sourced non-interactively, as an agent's
# `bash -c` reads them via BASH_ENV or a login shell.
. "$TAZPOD_HOST_LIB"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

# Words and commands of the vault, the gate and prompting.
forbidden='tazpod|vault|unlock|luks|cryptsetup|dm-crypt|/dev/mapper|losetup|passphrase|password|mount|secrets|read[[:space:]]+(-[a-zA-Z]*[sp]|.*-s)|trap[[:space:]]|stty|/dev/tty|pinentry|askpass'
[[ -d dotfiles ]] || fail "no dotfiles/ folder"
files=$(find dotfiles -type f | sort)
[[ -n $files ]] || fail "dotfiles/ is empty"
# Comments (# in shell and TOML, -- in Lua) run nothing and may say why.
# shellcheck disable=SC2086
hits=$(grep -EinH "$forbidden" $files | grep -Ev '^[^:]+:[0-9]+:[[:space:]]*(#|--)' || true)
[[ -z $hits ]] || fail "vault, unlock or prompt logic in the dotfiles:
$hits"

# The check itself catches what it is for.
sample=$(mktemp)
printf '%s\n' 'if ! mountpoint -q ~/secrets; then tazpod login; fi' > "$sample"
grep -Eiq "$forbidden" "$sample" || fail "the pattern misses an unlock line"
printf '%s\n' 'read -rsp "Vault password: " pw' > "$sample"
grep -Eiq "$forbidden" "$sample" || fail "the pattern misses a prompt"
rm -f "$sample"

# Sourced without a terminal, as a tool's shell would: no output, no wait
# for input (stdin is closed), done at once.
home=$(mktemp -d)
cp -r dotfiles/. "$home/"
for rc in .profile .bashrc; do
  out=$(HOME=$home timeout 10 bash -c ". \"\$HOME/$rc\"; echo done" </dev/null 2>&1) ||
    fail "sourcing $rc without a terminal failed or hung: $out"
  expect_eq "$out" "done" "output of sourcing $rc without a terminal"
done
rm -rf "$home"
echo "ok: $(wc -l <<<"$files") dotfiles, no vault or prompt logic, quiet without a terminal"
