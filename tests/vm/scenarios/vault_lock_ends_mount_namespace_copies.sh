# A mount namespace copied while the vault is mounted keeps its own mount of
# the vault's file system after the vault's unmount: the mapping stays busy
# and the plaintext stays reachable there. In a privileged container any
# user can make such a copy (`unshare -Urm`: a user namespace, then a mount
# namespace). The lock ends the processes whose namespaces still mount the
# vault, as it ends processes holding its files, and detaches everything.
# timeout: 180
# weight: 9
printf 'pw' | vault_expect 0 unlock
echo secret > "$VAULT_MNT/note.txt"
# Working directory outside the vault: only the copied mount holds it.
# (setpriv itself, not as_dev: a function in the background is a shell of
# its own, and $! would name that shell, not the copier.)
setpriv --reuid=1000 --regid=1000 --clear-groups unshare --user --map-root-user --mount sh -c 'cd /; exec sleep 1000' &
copier=$!
copier_ready() {
  [[ $(readlink "/proc/$copier/ns/mnt" 2>/dev/null) != "$(readlink /proc/self/ns/mnt)" ]] &&
    [[ $(awk '{print $1}' "/proc/$copier/comm" 2>/dev/null) == sleep ]]
}
wait_until 10 copier_ready || fail "the copier did not start sleeping in a mount namespace of its own"
grep -q " $VAULT_MNT " "/proc/$copier/mountinfo" || fail "the copy does not mount the vault: $(cat "/proc/$copier/mountinfo")"
vault_expect 0 lock
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after lock"
state=$(awk '{print $3}' "/proc/$copier/stat" 2>/dev/null || echo gone)
[[ $state == Z || $state == gone ]] || fail "the namespace's process $copier was not ended (state $state)"
wait "$copier" 2>/dev/null || true
printf 'pw' | vault_expect 0 unlock
expect_eq "$(cat "$VAULT_MNT/note.txt")" secret "the vault's file after the lock and a new unlock"
vault_expect 0 lock
vault_remove_enclave
