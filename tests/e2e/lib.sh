# Shared settings of the e2e harness (host side), on top of the vm tier's.
#
# The e2e guest boots the same cached kernel as the vm tier, but its root is a
# debootstrapped Debian with Docker's engine on a virtio disk, because dockerd
# needs a real distribution (containerd, runc, iptables' libraries, overlayfs)
# that an initramfs of copied binaries cannot reasonably be.
. "$(dirname "${BASH_SOURCE[0]}")/../vm/lib.sh"

E2E_HARNESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
E2E_REPO_DIR=$(cd "$E2E_HARNESS_DIR/../.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
E2E_CACHE=$TAZPOD_CACHE_DIR/e2e
E2E_SUITE=bookworm
E2E_MIRROR=${TAZPOD_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# The slim image's apt sources name the security archive too, as the
# official image's do (slim-config).
E2E_SECURITY_MIRROR=${TAZPOD_DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

# What the guest's root filesystem holds besides debootstrap's minbase: the
# engine, the kernel-side tools the scenarios check with, and networking for
# apt-get inside `docker build`. Part of the cache key.
E2E_ROOTFS_PACKAGES=(docker.io containerd runc tini cryptsetup-bin dmsetup e2fsprogs util-linux mount
                     kmod iproute2 procps)

# The cache key of the root filesystem: its packages and suite, the kernel
# whose modules it carries, and the scripts that build it (not this file:
# a new helper here must not cost a rebuild of several minutes).
e2e_rootfs_key() {
  {
    printf '%s\n' "${E2E_ROOTFS_PACKAGES[@]}" "$E2E_SUITE" "$E2E_MIRROR" "$E2E_SECURITY_MIRROR"
    basename "$(vm_kernel_dir)"
    cat "$E2E_HARNESS_DIR/prepare-rootfs" "$E2E_HARNESS_DIR/slim-config"
    e2e_host_ca_files | xargs -r cat
  } | sha256sum | cut -c1-16
}

# The certificate authorities this machine adds to Debian's (the files
# update-ca-certificates takes from /usr/local/share/ca-certificates), one
# path per line, none when it adds none. Where the way out goes through a
# TLS-inspecting proxy, its authority is among them, and HTTPS from inside
# the guest (npm in Dockerfile.gemini's build) fails without it; apt uses
# plain HTTP and signed lists, and needs nothing.
# (A machine without the folder adds none. The -d check is needed: find's
# failure on a missing folder would end the calling script silently under
# pipefail.)
e2e_host_ca_files() {
  local dir=${TAZPOD_HOST_CA_DIR:-/usr/local/share/ca-certificates}
  [[ -d $dir ]] || return 0
  find "$dir" -type f -name '*.crt' | LC_ALL=C sort
}

e2e_log() { printf 'e2e: %s\n' "$*" >&2; }
e2e_die() { printf 'e2e: error: %s\n' "$*" >&2; exit 1; }

# e2e_lock_cache: takes the lock of the cache that every checkout on this
# machine shares ($E2E_CACHE/.lock), waiting (and saying so) while another
# run holds it. Held until e2e_unlock_cache or the script's exit.
e2e_lock_cache() {
  mkdir -p "$E2E_CACHE"
  exec {E2E_CACHE_LOCK}> "$E2E_CACHE/.lock"
  if ! flock -n "$E2E_CACHE_LOCK"; then
    e2e_log "waiting for another run's use of $E2E_CACHE"
    flock "$E2E_CACHE_LOCK"
  fi
}
e2e_unlock_cache() { exec {E2E_CACHE_LOCK}>&-; }
