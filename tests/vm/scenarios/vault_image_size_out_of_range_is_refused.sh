# An image size no vault can be made in is refused before anything is made,
# naming the setting to change (exit 4, step=image_size, which PID 1 takes
# as a lasting refusal that leaves the state absent): one byte under the
# LUKS2 header and 2 MiB of data, and one beyond what a file can be. The
# smallest size allowed makes a vault whose file system has a journal. An
# image larger than its file system allows a file (EFBIG, here ext4 on a
# loop device) is refused too.
# timeout: 150
# weight: 15
mkdir -p /size-volume
mount -t tmpfs -o size=64m tmpfs /size-volume
# shellcheck disable=SC2034  # read by scenario-lib.sh's vault helpers
VAULT_MODE_ARGS=()

# size_unlock KEYSLOTS BYTES: an unlock with a new image of BYTES in the
# volume, the keyslots area KEYSLOTS (0: libcryptsetup's default); its
# output in $out, its exit status in $rc.
size_unlock() {
  vault_args
  local i
  for (( i = 0; i < ${#VAULT_ARGS[@]}; i++ )); do
    if [[ ${VAULT_ARGS[i]} == --luks2-keyslots-size ]]; then VAULT_ARGS[i + 1]=$1; fi
  done
  rc=0
  out=$(printf 'pw' | "$VAULT_HELPER" unlock "${VAULT_ARGS[@]}" --mode persistent \
          --image /size-volume/vault.img --image-size "$2") || rc=$?
  echo "keyslots $1, image $2 bytes: exit $rc: $out"
}

# expect_size_refused WHAT: the last unlock was refused for the image size,
# its message containing WHAT, and left nothing.
expect_size_refused() {
  expect_eq "$rc" 4 "exit status"
  [[ $out == *"step=image_size"* && $out == *"$1"* && $out == *vault.image_size* ]] \
    || fail "not refused for the image size, with \"$1\" and the setting: $out"
  [[ -z $(ls -A /size-volume) ]] || fail "the refusal left $(ls -A /size-volume)"
  expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the refusal"
}

# expect_made: the last unlock made a vault, whose file system has a
# journal (jbd2 runs one for its device-mapper device); lock it and remove it.
expect_made() {
  expect_eq "$rc" 0 "exit status at the smallest size"
  expect_eq "$(vault_attached)" "mapping=yes loop=yes mount=yes" "attached after the unlock"
  local dm dev=''
  for dm in /sys/block/dm-*; do
    [[ $(cat "$dm/dm/name") != "$VAULT_NAME" ]] || dev=${dm##*/}
  done
  [[ -n $dev && -d /proc/fs/jbd2/$dev-8 ]] || fail "the smallest vault's file system ($dev) has no journal: $(ls /proc/fs/jbd2)"
  "$VAULT_HELPER" lock "${VAULT_ARGS[@]}" --mode persistent --image /size-volume/vault.img >/dev/null \
    || fail "the lock of the smallest vault failed"
  rm -f /size-volume/vault.img
}

# The test settings' keyslots area (512 KiB): 3 MiB.
size_unlock 524288 $(( (3 << 20) - 1 ))
expect_size_refused "3 MiB or more"
# Fewer keyslots would not make room: not offered.
[[ $out != *luks2_keyslots_size* ]] || fail "a smaller keyslots area offered where it cannot help: $out"
size_unlock 524288 $((3 << 20))
expect_made
# libcryptsetup's default 16 MiB header: 18 MiB.
size_unlock 0 $(( (18 << 20) - 1 ))
expect_size_refused "18 MiB or more"
[[ $out == *"or lower vault.luks2_keyslots_size"* ]] || fail "the default keyslots area is not named: $out"
size_unlock 0 $((18 << 20))
expect_made
# Beyond off_t: posix_fallocate would fail with EINVAL, a "system" error.
size_unlock 524288 9223372036854775808
expect_size_refused "larger than any file can be"
size_unlock 524288 18446744073709551615
expect_size_refused "larger than any file can be"
umount /size-volume

# RAM mode without an image size: the image is the enclave less 1 MiB (all
# of it up to 2 MiB), and the enclave's size is the one to raise.
VAULT_MODE_ARGS=(--mode ram --enclave-size $((3 << 20)))
rc=0
out=$(printf 'pw' | vault unlock) || rc=$?
echo "a 3 MiB enclave: exit $rc: $out"
expect_eq "$rc" 4 "exit status for a 3 MiB enclave"
[[ $out == *"step=image_size"*"3 MiB or more"*"raise vault.enclave_size"* ]] \
  || fail "not refused for the enclave's size: $out"
[[ ! -e $VAULT_ENCLAVE/vault.img && ! -e $VAULT_ENCLAVE/vault.img.creating ]] || fail "an image was left in the enclave"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the refusal"
vault_remove_enclave
# shellcheck disable=SC2034  # read by size_unlock, through vault_args
VAULT_MODE_ARGS=()

# 64 TiB on ext4: beyond its largest file, whatever its block size.
truncate -s 32M /run/size-volume.ext4
mkfs.ext4 -q /run/size-volume.ext4
ext4_loop=$(losetup -f --show /run/size-volume.ext4)
mount "$ext4_loop" /size-volume
rmdir /size-volume/lost+found
size_unlock 524288 $((64 << 40))
expect_eq "$rc" 4 "exit status for an image beyond the file system's largest file"
[[ $out == *"step=image "* && $out == *"allows a file to be"* && $out == *vault.image_size* ]] \
  || fail "not refused as beyond the file system's largest file: $out"
[[ -z $(ls -A /size-volume) ]] || fail "the refusal left $(ls -A /size-volume)"
! mapping_exists "$VAULT_NAME" || fail "a mapping was left"
! mounted_here "$VAULT_MNT" || fail "a mount was left"
count_loops
expect_eq "$LOOPS" 1 "loop devices (the volume's alone) after the refusal"
umount /size-volume
losetup -d "$ext4_loop"
rm -f /run/size-volume.ext4
