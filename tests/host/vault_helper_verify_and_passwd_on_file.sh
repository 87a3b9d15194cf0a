# What works without device-mapper, through the real helper (with a loop
# device of its own for the header: vault/vault.h HeaderDevice): a
# passphrase is verified against a LUKS2 image without activating it, a
# wrong one is refused (exit 2), the passphrase is changed (old refused, new
# accepted) without ever leaving no working keyslot, a missing image or a
# symlinked path is a clear error, a file that is not root's and 0600 (as
# every image the helper makes) is no vault and is neither verified nor
# changed, a passphrase that could never be changed is not set, and a
# passphrase is never taken from argv.
. "$TAZPOD_HOST_LIB"
helper_on_files
KDF=(--pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 1024 --pbkdf-parallel 1)
fresh() {  # SIZE PASSPHRASE: a new image with that keyslot area
  rm -f vault.img; truncate -s 20M vault.img
  printf '%s' "$2" | cryptsetup luksFormat -q --type luks2 "${KDF[@]}" --luks2-keyslots-size "$1" \
    --key-file - vault.img 2>/dev/null
  chmod 0600 vault.img  # as the helper makes it: root's, closed to others
}
add_key() { printf '%s\n%s' "$1" "$2" | cryptsetup luksAddKey -q "${KDF[@]}" vault.img 2>/dev/null; }  # OLD NEW
slots() { cryptsetup luksDump vault.img | grep -cE '^ +[0-9]+: luks2$'; }
verify_exits() {  # RC PASSPHRASE WHAT
  local rc=0
  printf '%s' "$2" | H verify >/dev/null || rc=$?
  expect_eq "$rc" "$1" "verify of '$2': $3"
}
passwd_exits() {  # RC OLD NEW WHAT
  local rc=0
  printf '%s\0%s' "$2" "$3" | H passwd >/dev/null || rc=$?
  expect_eq "$rc" "$1" "passwd from '$2' to '$3': $4"
}

fresh 512k 'first pass'
rc=0; out=$(printf 'first pass' | H verify) || rc=$?
expect_eq "$rc" 0 "verify with the right passphrase"
expect_eq "${out%% t_start_us=*}" "result=ok state=locked" "verify output"
rc=0; out=$(printf 'not it' | H verify) || rc=$?
expect_eq "$rc" 2 "verify with a wrong passphrase"
[[ $out == *kind=wrong_passphrase* ]] || fail "wrong passphrase not named: $out"

passwd_exits 0 'first pass' 'second pass' "a change"
verify_exits 2 'first pass' "the old passphrase after it"
verify_exits 0 'second pass' "the new passphrase after it"
passwd_exits 2 'wrong' 'third' "a wrong old passphrase"

# The new passphrase gets a keyslot of its own before the old one goes, so a
# keyslot area with room for one slot only is refused, and the vault keeps
# its passphrase (libcryptsetup's own change would write over the only slot).
fresh 252k 'first pass'
rc=0; out=$(printf 'first pass\0second pass' | H passwd) || rc=$?
expect_eq "$rc" 4 "passwd with room for one keyslot only"
[[ $out == *"no room for a new keyslot"* ]] || fail "full keyslot area not explained: $out"
verify_exits 0 'first pass' "after a refused change"
expect_eq "$(slots)" 1 "keyslots after a refused change"

# A change killed between its two steps leaves both passphrases working (the
# vm scenario vault_passwd_killed_between_its_steps); asked again, the same
# change finishes, using the new passphrase's slot, where the area has no
# room for a third slot and where it has room to spare (a second slot of
# the new passphrase would outlive the next change).
for area in 512k 16m; do
  fresh "$area" 'first pass'
  add_key 'first pass' 'second pass'
  expect_eq "$(slots)" 2 "keyslots after the interrupted change ($area)"
  passwd_exits 0 'first pass' 'second pass' "asked again ($area)"
  verify_exits 2 'first pass' "once the change finished ($area)"
  verify_exits 0 'second pass' "once the change finished ($area)"
  expect_eq "$(slots)" 1 "keyslots once the change finished ($area)"
done
passwd_exits 0 'second pass' 'third pass' "the next change"
verify_exits 2 'second pass' "the passphrase two changes ago"

# Another change on a full area is refused and loses nothing.
fresh 512k 'second pass'
add_key 'second pass' 'third pass'
passwd_exits 4 'second pass' 'fourth pass' "on a full keyslot area"
verify_exits 0 'second pass' "after a refused change on a full area"
verify_exits 0 'third pass' "the other keyslot after a refused change on a full area"
expect_eq "$(slots)" 2 "keyslots after a refused change on a full area"

# Usage errors, before the vault is touched: an empty old passphrase, and a
# passphrase to be set that holds a NUL byte (passwd reads OLD NUL NEW, so
# it could never be changed again): passwd's new one, and unlock's, which
# may create the vault.
passwd_exits 64 '' 'fourth pass' "an empty old passphrase"
rc=0; printf 'second pass\0fourth\0pass' | H passwd >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 64 "a new passphrase holding a NUL byte"
rc=0; printf 'a\0b' | H unlock >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 64 "unlock with a passphrase holding a NUL byte"
verify_exits 0 'second pass' "after the usage errors"
expect_eq "$(slots)" 2 "keyslots after the usage errors"

# Another's file in the image's place is refused before any passphrase is
# tried on it: open to others, or owned by another user.
for change in 'chmod 0644' 'chown 1000:1000'; do
  fresh 512k 'second pass'
  $change vault.img
  rc=0; out=$(printf 'second pass' | H verify) || rc=$?
  expect_eq "$rc" 4 "verify after $change"
  [[ $out == *"is not a vault image of TazPod's"*"a vault is root's, 0600"* ]] || fail "after $change, not explained: $out"
  rc=0; out=$(printf 'second pass\0third pass' | H passwd) || rc=$?
  expect_eq "$rc" 4 "passwd after $change"
  [[ $out == *"is not a vault image of TazPod's"* ]] || fail "passwd after $change, not explained: $out"
  chown 0:0 vault.img; chmod 0600 vault.img
  verify_exits 0 'second pass' "the refused passwd after $change changed nothing"
done

rm vault.img
rc=0; out=$(printf 'x' | H verify) || rc=$?
expect_eq "$rc" 4 "verify without a vault"
[[ $out == *"no vault yet"* ]] || fail "missing vault not explained: $out"

ln -s /etc/passwd vault.img
rc=0; out=$(printf 'x' | H verify) || rc=$?
expect_eq "$rc" 4 "verify through a symlinked image path"
[[ $out == *"symbolic link"* ]] || fail "symlink not explained: $out"

# A message too long for the result line (here the symlink's path, over
# 3 KiB, with a terminal escape in a directory's name) is said whole on
# stderr, which PID 1 passes into its log as it is: escaped there.
long=$HELPER_DIR
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do long+=/$(printf 'd%.0s' {1..200}); done
long+=$'/x\e[2Jy'
mkdir -p "$long"
ln -s /etc/passwd "$long/vault.img"
rc=0
out=$(printf 'x' | timeout 20 "$TAZPOD_VAULT_HELPER" verify --mode persistent --image "$long/vault.img" \
        --name tazpod-hosttest --mountpoint "$HELPER_DIR/mnt" 2>long.err) || rc=$?
expect_eq "$rc" 4 "verify through a long symlinked image path"
[[ $out == *"(cut; whole in PID 1's log)"* ]] || fail "the long message was not cut on the result line: ${out:0:200}"
[[ $(cat long.err) == *'/x\x1b[2Jy/vault.img'* ]] || fail "the path on stderr is not escaped: $(cat -v long.err | tail -c 200)"
grep -q $'\e' long.err && fail "a terminal escape reached stderr"

rc=0; "$TAZPOD_VAULT_HELPER" verify --name n --mountpoint m --passphrase secret </dev/null >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 64 "a passphrase option in argv is a usage error"
cd /
rm -rf "$HELPER_DIR"
echo "ok: verify, passwd and clear errors without device-mapper"
