# The configuration files the images and deploy/k8s/ ship are accepted by
# tazpod init's own parser (unknown keys and bad values exit 2,
# docs/configuration.md): images/config.toml (/etc/tazpod/config.toml),
# images/config-persistent.toml (/etc/tazpod/persistent.toml) and the
# ConfigMap's config.toml. Each runs with a main child that exits at once;
# the vault, the control socket and the HTTP endpoint are switched off in a
# copy (with keys inserted into its own sections), so nothing is mounted or
# bound on this machine.
. "$TAZPOD_HOST_LIB"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
cd "$work"

# The ConfigMap's config.toml: the block scalar's lines, unindented.
awk '/^  config.toml: \|/ {on=1; next} on && /^    / {print substr($0, 5); next} on && /^[^ ]/ {on=0} on && /^$/ {print}' \
  "$root/deploy/k8s/configmap.yaml" > configmap.toml
grep -q '^\[health\]' configmap.toml || fail "could not extract config.toml from deploy/k8s/configmap.yaml"

# The e2e tier's container configurations too: a typo there would cost a
# whole guest run to find.
for src in "$root/images/config.toml" "$root/images/config-persistent.toml" configmap.toml \
           "$root/tests/e2e/e2e-config.toml" "$root/tests/e2e/e2e-persistent.toml"; do
  name=$(basename "$src")
  # Inert copy: each [section] line gets its off switch right after it.
  sed -e 's/^\[vault\]$/[vault]\nenabled = false/' \
      -e 's/^\[session\]$/[session]\ncontrol = false/' \
      -e 's/^\[health\]$/[health]\nhttp = false/' \
      -e "s|^audit_log = .*|audit_log = \"$work/audit.log\"|" "$src" > "inert-$name"
  grep -q '^enabled = false' "inert-$name" || fail "$name has no [vault] section to switch off"
  rc=0
  "$TAZPOD" init --config "inert-$name" -- true 2>"$name.log" || rc=$?
  expect_eq "$rc" 0 "tazpod init's exit status with $name (log: $(cat "$name.log"))"
done
rm -rf "$work"
echo "ok: the images' and the ConfigMap's configuration files are accepted by tazpod init"
