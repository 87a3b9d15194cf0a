# Whoever can write to the image's directory (an enclave still open to all,
# a volume the user owns) may put a FIFO where the vault image, or a first
# unlock's half-made one, goes. Opened blocking, it would hold the helper
# until PID 1's operation timeout, at every unlock. Through the real helper,
# without device-mapper: recovery removes a FIFO at vault.img.creating (it
# is nobody's image) and passes one at vault.img, which verify and passwd
# refuse at once, and which is left where it is.
. "$TAZPOD_HOST_LIB"
helper_on_files

mkfifo vault.img.creating
rc=0; out=$(H recover </dev/null 2>err) || rc=$?
expect_eq "$rc" 0 "recover with a FIFO at vault.img.creating ($out $(cat err))"
[[ -e vault.img.creating ]] && fail "the FIFO at vault.img.creating was left"

mkfifo vault.img
rc=0; out=$(H recover </dev/null 2>err) || rc=$?
expect_eq "$rc" 0 "recover with a FIFO at vault.img ($out $(cat err))"
[[ -p vault.img ]] || fail "the FIFO at vault.img was removed: only a half-made image is recovery's"
rc=0; out=$(printf 'x' | H verify 2>err) || rc=$?
expect_eq "$rc" 4 "verify with a FIFO at vault.img ($(cat err))"
[[ $out == *"no vault yet"* ]] || fail "verify of a FIFO not explained: $out"
rc=0; out=$(printf 'x\0y' | H passwd 2>err) || rc=$?
expect_eq "$rc" 4 "passwd with a FIFO at vault.img ($(cat err))"
rm -f vault.img err
cd /
rmdir "$HELPER_DIR"
echo "ok: a planted FIFO never holds the helper"
