# The host tier can do what needs no device-mapper: format a LUKS2 image in a
# tmpfs and verify a passphrase without activating it. Proves the tier's
# premise (docs/testing.md) and catches a missing cryptsetup early.
. "$TAZPOD_HOST_LIB"
dir=$(mktemp -d)
trap 'umount "$dir" 2>/dev/null; rmdir "$dir"' EXIT
mount -t tmpfs -o size=32m,mode=0700 tmpfs "$dir"
printf 'right' > "$dir/good"; printf 'wrong' > "$dir/bad"
truncate -s 20M "$dir/vault.img"
cryptsetup luksFormat -q --type luks2 --pbkdf argon2id --pbkdf-force-iterations 4 \
  --pbkdf-memory 1024 --pbkdf-parallel 1 --luks2-keyslots-size 512k \
  --key-file "$dir/good" "$dir/vault.img" 2>/dev/null
cryptsetup open --test-passphrase --key-file "$dir/good" "$dir/vault.img"
rc=0
cryptsetup open --test-passphrase --key-file "$dir/bad" "$dir/vault.img" 2>/dev/null || rc=$?
expect_eq "$rc" 2 "exit status of a wrong passphrase"
echo "ok: LUKS2 on a file, right passphrase verified, wrong one refused"
