# images/install-tool, which the Dockerfiles use for every download from
# outside Debian and npm: a file whose SHA-256 differs from the manifest's
# fails the build and installs nothing; a matching one is installed (as a
# plain binary and from a tarball, whose member may be stored as ./NAME); a
# tool with no line for this architecture fails; a whole package (`tree:`,
# for npm) is kept in its folder with its programs linked;
# SKIP_EXTERNAL_DOWNLOADS=1 downloads nothing but from npm's registry, warns
# loudly and records what it skipped, a tool with no line for this
# architecture too. The download itself is a stand-in `curl` that writes
# the test's content, so nothing leaves this machine.
. "$TAZPOD_HOST_LIB"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
arch=$(dpkg --print-architecture)

# No bin/: install-tool creates the folder it installs programs into.
mkdir -p tool fakebin payload share
cp "$root/images/install-tool" tool/
printf '#!/bin/sh\necho tool\n' > payload/good
mkdir -p payload/tree/pkg && cp payload/good payload/tree/pkg/prog
tar -czf payload/good.tar.gz -C payload/tree pkg/prog
# As eza's releases are packed: the member is stored as ./prog.
mkdir -p payload/flat && cp payload/good payload/flat/prog
tar -czf payload/dotted.tar.gz -C payload/flat ./prog
dotted=$(sha256sum payload/dotted.tar.gz | cut -d' ' -f1)
# An npm package: one top folder, a program that needs the rest of it.
mkdir -p payload/npm/package/bin payload/npm/package/lib
# shellcheck disable=SC2016 # the $(...) is for the installed program to run
printf '#!/bin/sh\n. "$(dirname "$(readlink -f "$0")")/../lib/body"\n' > payload/npm/package/bin/cli
chmod +x payload/npm/package/bin/cli
echo 'echo whole-package' > payload/npm/package/lib/body
tar -czf payload/good.tgz -C payload/npm package
npmpkg=$(sha256sum payload/good.tgz | cut -d' ' -f1)
good=$(sha256sum payload/good | cut -d' ' -f1)
tgz=$(sha256sum payload/good.tar.gz | cut -d' ' -f1)
wrong=$(printf 'x' | sha256sum | cut -d' ' -f1)
cat > tool/tools.manifest <<MANIFEST
# test manifest
plain    1.0  $arch  $good   bin          https://example.invalid/plain-1.0
packed   2.0  $arch  $tgz    tgz:pkg/prog https://example.invalid/packed-2.0.tar.gz
dotted   1.0  $arch  $dotted tgz:prog     https://example.invalid/dotted-1.0.tar.gz
tampered 1.0  $arch  $wrong  bin          https://example.invalid/tampered-1.0
elsewhere 1.0 no-such-arch $good bin      https://example.invalid/elsewhere-1.0
whole    3.0  all    $npmpkg tree:bin/cli=whole-cli https://registry.npmjs.org/whole/-/whole-3.0.tgz
debpkg   1.0  $arch  $good   deb          https://example.invalid/debpkg-1.0
debtwo   1.0  $arch  $good   deb          https://example.invalid/debtwo-1.0
MANIFEST
# The stand-in apt-get: records each call; `update` leaves a list behind.
cat > fakebin/apt-get <<FAKE
#!/bin/sh
echo "\$1" >> "$work/apt-calls"
[ "\$1" = update ] && touch "$work/lists/bookworm_Packages"
exit 0
FAKE
chmod +x fakebin/apt-get
mkdir -p lists
# The stand-in curl: serves payload/NAME for a URL ending in NAME-VERSION[.tar.gz].
cat > fakebin/curl <<FAKE
#!/bin/sh
out= url=
while [ \$# -gt 0 ]; do
  case \$1 in --output) out=\$2; shift ;; https://*) url=\$1 ;; esac
  shift
done
case \$url in
  *dotted-1.0.tar.gz) cp "$work/payload/dotted.tar.gz" "\$out" ;;
  *.tar.gz) cp "$work/payload/good.tar.gz" "\$out" ;;
  *.tgz) cp "$work/payload/good.tgz" "\$out" ;;
  *) cp "$work/payload/good" "\$out" ;;
esac
FAKE
chmod +x fakebin/curl

run() { PATH="$work/fakebin:$PATH" INSTALL_TOOL_BINDIR="$work/bin" INSTALL_TOOL_LIBDIR="$work/lib" INSTALL_TOOL_SHAREDIR="$work/share" INSTALL_TOOL_APT_LISTS="$work/lists" tool/install-tool "$@"; }

run plain packed dotted > out 2>&1 || fail "matching digests were refused: $(cat out)"
cmp -s bin/plain payload/good || fail "plain binary not installed"
cmp -s bin/packed payload/good || fail "program from the tarball not installed"
cmp -s bin/dotted payload/good || fail "program stored as ./prog in its tarball not installed"
[[ -x bin/plain && -x bin/packed && -x bin/dotted ]] || fail "installed programs are not executable"

run whole > out 2>&1 || fail "a whole package was refused: $(cat out)"
[[ -f lib/whole/lib/body ]] || fail "the package was not kept whole under lib/whole: $(ls -R lib)"
expect_eq "$(bin/whole-cli)" whole-package "the linked program, run from bin/"

# Packages from .debs: apt's lists fetched once, only then, and not left in
# the layer; no .deb, no apt-get at all.
run debpkg debtwo > out 2>&1 || fail "the .deb lines were refused: $(cat out)"
expect_eq "$(tr '\n' ' ' < apt-calls)" "update install install " "apt-get calls for two .debs"
[[ -z $(ls lists) ]] || fail "apt's lists were left behind: $(ls lists)"
rm -f apt-calls
run plain > out 2>&1 || fail "plain refused: $(cat out)"
[[ ! -e apt-calls ]] || fail "apt-get ran without a .deb to install: $(cat apt-calls)"

rc=0
run tampered > out 2>&1 || rc=$?
(( rc != 0 )) || fail "a SHA-256 mismatch did not fail: $(cat out)"
grep -q FAILED out || fail "sha256sum's verdict not in the output: $(cat out)"
[[ ! -e bin/tampered ]] || fail "a file with the wrong SHA-256 was installed"

rc=0
run elsewhere > out 2>&1 || rc=$?
(( rc != 0 )) || fail "a tool with no line for $arch did not fail"
grep -q "no line for architecture $arch" out || fail "missing-architecture message: $(cat out)"

rm -rf bin/* lib
rc=0
SKIP_EXTERNAL_DOWNLOADS=1 run plain whole tampered elsewhere > out 2>&1 || rc=$?
expect_eq "$rc" 0 "exit status with SKIP_EXTERNAL_DOWNLOADS=1 (and a tool with no line for $arch)"
grep -q 'WARNING: SKIP_EXTERNAL_DOWNLOADS=1' out || fail "no loud warning: $(cat out)"
grep -q 'NOT INSTALLED: plain tampered elsewhere' out || fail "the warning does not name the tools: $(cat out)"
expect_eq "$(find bin -mindepth 1 -printf '%f ')" "whole-cli " "what was installed with downloads skipped (only npm's registry)"
expect_eq "$(tr '\n' ' ' < share/skipped-tools)" "plain tampered elsewhere " "skipped-tools"
echo "ok: install-tool installs only what matches its SHA-256, and skips loudly"
