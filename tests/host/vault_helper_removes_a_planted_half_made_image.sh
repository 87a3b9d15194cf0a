# A first unlock's half-made image, vault.img.creating, is locked while it
# is made, and recovery (and the next first unlock) leave a locked one alone:
# it is another container's creation under way. Such a file is always
# root's and closed to others. One that is not was planted, by whoever
# could write to the directory (a Kubernetes emptyDir enclave is 1777 until
# the vault closes it), and its planter's lock on it used to keep every
# first unlock out ("another container is making the vault") for as long
# as the planter held it. Through the real helper's recovery, without
# device-mapper, with a lock held by another process.
. "$TAZPOD_HOST_LIB"
helper_on_files

holder=''
# hold_lock: a write lock on vault.img.creating, held by another process.
hold_lock() {
  python3 -c 'import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.lockf(fd, fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(60)' "$HELPER_DIR/vault.img.creating" > holder.out &
  holder=$!
  for _ in $(seq 100); do grep -q locked holder.out && return 0; sleep 0.05; done
  fail "the lock was not taken: $(cat holder.out)"
}
release_lock() { kill "$holder"; wait "$holder" 2>/dev/null || true; holder=''; }
# A failed check must not leave the holder sleeping on (ctest waits for it).
trap '[[ -z $holder ]] || kill "$holder" 2>/dev/null' EXIT

# Another container's creation: root's, 0600, locked. Left alone.
(umask 077 && : > vault.img.creating)
hold_lock
rc=0; out=$(H recover </dev/null 2>err) || rc=$?
expect_eq "$rc" 0 "recover beside a creation under way ($out $(cat err))"
[[ -e vault.img.creating ]] || fail "recovery removed another container's creation under way"
release_lock
rm vault.img.creating

# Planted: not root's (nobody's), or open to others; locked by its planter.
for plant in owner mode; do
  (umask 077 && : > vault.img.creating)
  if [[ $plant == owner ]]; then chown 65534:65534 vault.img.creating; else chmod 0644 vault.img.creating; fi
  hold_lock
  rc=0; out=$(H recover </dev/null 2>err) || rc=$?
  expect_eq "$rc" 0 "recover with a planted vault.img.creating ($plant) ($out $(cat err))"
  [[ -e vault.img.creating ]] && fail "a planted vault.img.creating ($plant), locked, was left: first unlocks stay refused"
  release_lock
done

# Planted as a directory: an empty one is removed; one with something in it
# is named, and left as it is (exit 4), not emptied. Before, either failed
# as "unlink …: Is a directory", at every start and first unlock.
mkdir vault.img.creating
rc=0; out=$(H recover </dev/null 2>err) || rc=$?
expect_eq "$rc" 0 "recover with an empty directory at vault.img.creating ($out $(cat err))"
[[ -e vault.img.creating ]] && fail "the empty directory at vault.img.creating was left"
mkdir vault.img.creating && : > vault.img.creating/theirs
rc=0; out=$(H recover </dev/null 2>err) || rc=$?
expect_eq "$rc" 4 "recover with a directory holding a file at vault.img.creating ($out $(cat err))"
[[ $out == *'vault.img.creating is a directory, not an image: remove it'* ]] || fail "the directory is not named: $out"
[[ -e vault.img.creating/theirs ]] || fail "what the directory held was removed"
rm -r vault.img.creating

rm -f err holder.out
cd /
rmdir "$HELPER_DIR"
echo "ok: a planted, locked half-made image is removed; a real creation under way is left"
