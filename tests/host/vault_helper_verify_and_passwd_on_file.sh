# What works without device-mapper, through the real helper: a passphrase is
# verified against a LUKS2 image without activating it, a wrong one is
# refused (exit 2), the passphrase is changed in its keyslot (old refused, new
# accepted), a missing image or a symlinked path is a clear error, and a
# passphrase is never taken from argv.
. "$TAZPOD_HOST_LIB"
: "${TAZPOD_VAULT_HELPER:?}"
dir=$(mktemp -d)
cd "$dir"
H() { "$TAZPOD_VAULT_HELPER" "$@" --mode persistent --image "$dir/vault.img" --name tazpod-hosttest \
        --mountpoint "$dir/mnt" --pbkdf-iterations 4 --pbkdf-memory 1024 --pbkdf-parallel 1; }
truncate -s 20M vault.img
printf 'first pass' > pass1
cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-force-iterations 4 --pbkdf-memory 1024 \
  --pbkdf-parallel 1 --luks2-keyslots-size 512k --key-file pass1 vault.img 2>/dev/null

rc=0; out=$(printf 'first pass' | H verify) || rc=$?
expect_eq "$rc" 0 "verify with the right passphrase"
expect_eq "${out%% t_start_us=*}" "result=ok state=locked" "verify output"
rc=0; out=$(printf 'not it' | H verify) || rc=$?
expect_eq "$rc" 2 "verify with a wrong passphrase"
[[ $out == *kind=wrong_passphrase* ]] || fail "wrong passphrase not named: $out"

rc=0; printf 'first pass\0second pass' | H passwd >/dev/null || rc=$?
expect_eq "$rc" 0 "passwd"
rc=0; printf 'first pass' | H verify >/dev/null || rc=$?
expect_eq "$rc" 2 "the old passphrase after passwd"
rc=0; printf 'second pass' | H verify >/dev/null || rc=$?
expect_eq "$rc" 0 "the new passphrase after passwd"
rc=0; printf 'wrong\0third' | H passwd >/dev/null || rc=$?
expect_eq "$rc" 2 "passwd with a wrong old passphrase"

# The new passphrase gets a keyslot of its own before the old one goes, so a
# keyslot area with room for one slot only is refused, and the vault keeps
# its passphrase (libcryptsetup's own change would write over the only slot).
slots() { cryptsetup luksDump vault.img | grep -cE '^ +[0-9]+: luks2$'; }
fresh() {  # SIZE PASSPHRASE: a new image with that keyslot area
  rm -f vault.img; truncate -s 20M vault.img
  printf '%s' "$2" | cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-force-iterations 4 \
    --pbkdf-memory 1024 --pbkdf-parallel 1 --luks2-keyslots-size "$1" --key-file - vault.img 2>/dev/null
}
fresh 252k 'first pass'
rc=0; out=$(printf 'first pass\0second pass' | H passwd) || rc=$?
expect_eq "$rc" 4 "passwd with room for one keyslot only"
[[ $out == *"no room for a new keyslot"* ]] || fail "full keyslot area not explained: $out"
rc=0; printf 'first pass' | H verify >/dev/null || rc=$?
expect_eq "$rc" 0 "the old passphrase after a refused passwd"
expect_eq "$(slots)" 1 "keyslots after a refused passwd"

# A change killed between its two steps leaves both passphrases working (the
# vm scenario vault_passwd_killed_between_its_steps); asked again, the same
# change finishes even where the area has no room for a third slot.
fresh 512k 'first pass'
printf 'first pass\nsecond pass' | cryptsetup luksAddKey -q --pbkdf argon2id --pbkdf-force-iterations 4 \
  --pbkdf-memory 1024 --pbkdf-parallel 1 vault.img 2>/dev/null
expect_eq "$(slots)" 2 "keyslots after the interrupted change"
rc=0; printf 'first pass\0second pass' | H passwd >/dev/null || rc=$?
expect_eq "$rc" 0 "passwd asked again"
rc=0; printf 'first pass' | H verify >/dev/null || rc=$?
expect_eq "$rc" 2 "the old passphrase once the change finished"
rc=0; printf 'second pass' | H verify >/dev/null || rc=$?
expect_eq "$rc" 0 "the new passphrase once the change finished"
expect_eq "$(slots)" 1 "keyslots once the change finished"
# The same where the area has room to spare: the new passphrase's slot is
# used, not doubled (a second one would outlive the next change).
fresh 16m 'first pass'
printf 'first pass\nsecond pass' | cryptsetup luksAddKey -q --pbkdf argon2id --pbkdf-force-iterations 4 \
  --pbkdf-memory 1024 --pbkdf-parallel 1 vault.img 2>/dev/null
rc=0; printf 'first pass\0second pass' | H passwd >/dev/null || rc=$?
expect_eq "$rc" 0 "passwd asked again, room to spare"
expect_eq "$(slots)" 1 "keyslots once the change finished, room to spare"
rc=0; printf 'second pass\0third pass' | H passwd >/dev/null || rc=$?
expect_eq "$rc" 0 "the next passwd"
rc=0; printf 'second pass' | H verify >/dev/null || rc=$?
expect_eq "$rc" 2 "the passphrase two changes ago"
fresh 512k 'second pass'
# Another change on a full area is refused and loses nothing.
printf 'second pass\nthird pass' | cryptsetup luksAddKey -q --pbkdf argon2id --pbkdf-force-iterations 4 \
  --pbkdf-memory 1024 --pbkdf-parallel 1 vault.img 2>/dev/null
rc=0; printf 'second pass\0fourth pass' | H passwd >/dev/null || rc=$?
expect_eq "$rc" 4 "passwd on a full keyslot area"
rc=0; printf 'second pass' | H verify >/dev/null || rc=$?
expect_eq "$rc" 0 "the old passphrase after a refused passwd on a full area"
rc=0; printf 'third pass' | H verify >/dev/null || rc=$?
expect_eq "$rc" 0 "the other keyslot after a refused passwd on a full area"
expect_eq "$(slots)" 2 "keyslots after a refused passwd on a full area"

rm vault.img
rc=0; out=$(printf 'x' | H verify) || rc=$?
expect_eq "$rc" 4 "verify without a vault"
[[ $out == *"no vault yet"* ]] || fail "missing vault not explained: $out"

ln -s /etc/passwd vault.img
rc=0; out=$(printf 'x' | H verify) || rc=$?
expect_eq "$rc" 4 "verify through a symlinked image path"
[[ $out == *"symbolic link"* ]] || fail "symlink not explained: $out"

rc=0; "$TAZPOD_VAULT_HELPER" verify --name n --mountpoint m --passphrase secret </dev/null >/dev/null 2>&1 || rc=$?
expect_eq "$rc" 64 "a passphrase option in argv is a usage error"
echo "ok: verify, passwd and clear errors without device-mapper"
