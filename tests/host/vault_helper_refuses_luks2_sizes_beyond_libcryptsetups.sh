# The vault helper takes a LUKS2 layout only within libcryptsetup's
# bounds (4 MiB of metadata, 128 MiB of keyslots): a larger one is a usage
# error (exit 64) naming the option, before anything is made. The image's
# least size is reckoned from these, and a huge value would overflow it.
. "$TAZPOD_HOST_LIB"
helper_on_files
made() {
  local f
  for f in "$HELPER_DIR"/* "$HELPER_DIR"/.*; do
    [[ ! -e $f || ${f##*/} == err || ${f##*/} == . || ${f##*/} == .. ]] || echo "${f##*/}"
  done
}
for option in --luks2-metadata-size=$(( (4 << 20) + 1 )) --luks2-keyslots-size=$(( (128 << 20) + 1 )) \
              --luks2-keyslots-size=18446744073709551615; do
  rc=0; out=$(printf 'pw' | H unlock "$option" --image-size $((100 << 20)) 2>err) || rc=$?
  expect_eq "$rc" 64 "unlock with $option ($out $(cat err))"
  grep -q -- "${option%%=*}" err || fail "$option: the option is not named: $(cat err)"
  [[ -z $(made) ]] || fail "$option: something was made: $(made)"
done
# At the bounds, the layout is taken: the unlock goes on to the image, and
# is refused for its size (4 + 4 + 128 MiB of header, and 2 MiB of data),
# before it is made.
rc=0
out=$(printf 'pw' | H unlock --luks2-metadata-size $((4 << 20)) --luks2-keyslots-size $((128 << 20)) \
        --image-size $((100 << 20)) 2>err) || rc=$?
expect_eq "$rc" 4 "unlock at the bounds ($out $(cat err))"
[[ $out == *"step=image_size"*"138 MiB or more"* ]] || fail "unlock at the bounds not refused for its image size: $out $(cat err)"
[[ -z $(made) ]] || fail "at the bounds, something was made: $(made)"
rm -f err
cd / && rmdir "$HELPER_DIR"
