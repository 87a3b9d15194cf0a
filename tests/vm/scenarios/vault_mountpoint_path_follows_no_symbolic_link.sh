# A configured mount point deeper in the user's home (~/vaults/secrets)
# passes through a directory the user may swap: ~/vaults renamed and
# replaced by a symbolic link to /srv/victim. The unlock walks the path one
# directory at a time and refuses the link, naming it: it neither makes a
# `secrets` directory in the link's target (given to the user) nor mounts
# the vault there. Before, only the last component was checked, and both
# happened. No link is followed anywhere on the path, root's either: the
# mount table shows the real path, where the vault is then looked for.
# timeout: 180
# weight: 20
victim=/srv/victim
mkdir -p "$victim"
as_dev mkdir -p /home/dev/vaults
VAULT_MNT=/home/dev/vaults/secrets

as_dev sh -c "mv /home/dev/vaults /home/dev/vaults.real && ln -s $victim /home/dev/vaults"
rc=0; out=$(printf 'pw' | vault unlock 2>&1) || rc=$?
echo "unlock through dev's link (exit $rc): $out"
expect_eq "$rc" 4 "the unlock through dev's link (invalid)"
[[ $out == *"/home/dev/vaults is a symbolic link; configure the real path"* ]] ||
  fail "the refusal does not name the link: $out"
[[ -e $victim/secrets ]] && fail "a directory was made in the link's target: $(ls -la "$victim")"
mounted_here "$victim/secrets" && fail "the vault was mounted in the link's target"
expect_eq "$(vault_attached)" "mapping=no loop=no mount=no" "attached after the refusal"

# The link gone, the same path unlocks (the refused first unlock left no
# image: this one makes it); the directory made is dev's.
as_dev sh -c 'rm /home/dev/vaults && mv /home/dev/vaults.real /home/dev/vaults'
printf 'pw' | vault_expect 0 unlock
expect_eq "$(stat -c '%U %a' /home/dev/vaults/secrets)" "dev 700" "the mount point's owner and mode"
vault_expect 0 lock </dev/null

# Root's own link, in root's /srv: refused as well, naming it.
ln -s /home/dev /srv/dev-home
# shellcheck disable=SC2034  # read by vault_args (scenario-lib.sh)
VAULT_MNT=/srv/dev-home/vaults/secrets
rc=0; out=$(printf 'pw' | vault unlock-existing 2>&1) || rc=$?
expect_eq "$rc" 4 "the unlock through root's link (invalid)"
[[ $out == *"/srv/dev-home is a symbolic link; configure the real path"* ]] || fail "root's link not named: $out"
rm /srv/dev-home
rm -r /home/dev/vaults "$victim"
vault_remove_enclave
