# Shared settings of the VM harness, sourced by its scripts (host side).
#
# The cache lives outside the repository so that a fresh clone reuses the
# kernel and the static part of the initramfs, and `git clean` never costs a
# rebuild. TAZPOD_CACHE_DIR moves it.

TAZPOD_CACHE_DIR=${TAZPOD_CACHE_DIR:-/var/cache/tazpod-test}
VM_KERNEL_ROOT=$TAZPOD_CACHE_DIR/kernel
# shellcheck disable=SC2034  # used by the scripts that source this file
VM_INITRAMFS_ROOT=$TAZPOD_CACHE_DIR/initramfs
# shellcheck disable=SC2034  # used by the scripts that source this file
VM_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The Debian packages whose files go into the guest. Their versions are part
# of the base initramfs's cache key.
# shellcheck disable=SC2034  # used by the scripts that source this file
VM_GUEST_PACKAGES=(bash grep busybox-static util-linux mount kmod e2fsprogs cryptsetup-bin dmsetup libc6)

vm_log() { printf 'vm: %s\n' "$*" >&2; }
vm_die() { printf 'vm: error: %s\n' "$*" >&2; exit 1; }

# Prints the directory of the cached kernel (holding vmlinuz and lib/modules),
# or fails when prepare-kernel has not run.
vm_kernel_dir() {
  local dir
  dir=$(readlink -f "$VM_KERNEL_ROOT/current" 2>/dev/null) || true
  [[ -n $dir && -f $dir/vmlinuz ]] || vm_die "no cached kernel in $VM_KERNEL_ROOT (run tests/vm/prepare-kernel or scripts/setup)"
  printf '%s\n' "$dir"
}

vm_kernel_release() {
  local dir
  dir=$(vm_kernel_dir)
  ls "$dir/lib/modules"
}

# Copies an executable or library into the staging root $1 at the path it has
# on this machine, resolving /bin, /sbin, /lib and /lib64 into /usr (the
# guest, like Debian 12, has a merged /usr), followed by every shared library
# it needs, found with ldd rather than listed by hand. An optional third
# argument names the executable's path in the guest instead.
vm_copy_with_libs() {
  local root=$1 file=$2 dest lib
  dest=$root$(vm_usr_path "${3:-$file}")
  mkdir -p "$(dirname "$dest")"
  cp -L --preserve=mode "$file" "$dest"
  while read -r lib; do
    [[ -n $lib ]] || continue
    dest=$root$(vm_usr_path "$lib")
    [[ -e $dest ]] && continue
    mkdir -p "$(dirname "$dest")"
    cp -L --preserve=mode "$lib" "$dest"
  done < <(ldd "$file" 2>/dev/null | awk '/=> \//{print $3} /^\t\//{print $1}')
}

vm_usr_path() {
  case $1 in
    /bin/*|/sbin/*|/lib/*|/lib64/*) printf '/usr%s\n' "$1" ;;
    *) printf '%s\n' "$1" ;;
  esac
}

# Splits a guest's report (DIR/results.log, the markers of guest/run-all)
# into DIR/scenarios/NAME.{log,rc}, DIR/timings, DIR/boot_uptime_s and
# DIR/batch-done. Shared by the vm and e2e tiers.
vm_split_report() {
  local out=$1
  tr -d '\r' < "$out/results.log" | awk -v dir="$out/scenarios" '
    /^@@tazpod-vm begin / { name = $3; file = dir "/" name ".log"; printf "" > file; next }
    /^@@tazpod-vm boot /  { split($3, kv, "="); print kv[2] > (dir "/../boot_uptime_s"); next }
    /^@@tazpod-vm end /   { split($4, kv, "="); print kv[2] > (dir "/" name ".rc"); close(file)
                            split($5, ms, "="); printf "%s %s ms\n", name, ms[2] >> (dir "/../timings"); name = ""; next }
    /^@@tazpod-vm batch-done/ { print "done" > (dir "/../batch-done"); next }
    name != "" { print >> file }
  '
}
