// The image's lock: one live attachment of a vault image at a time, even
// across containers.
//
// Two containers given one persistent image (a ReadWriteMany volume, a
// replacement pod started before the old one stopped) would each attach it
// and mount its ext4 read-write: the file system is corrupted. So a loop
// device of ours holds an open file description (OFD) write lock on its
// image. It is taken on the descriptor handed to LOOP_CONFIGURE, whose open
// file the loop device keeps: the lock lasts exactly as long as the
// attachment, whoever attached it and whatever happened to that process,
// and the kernel drops it when the loop device lets the file go. On a
// network file system (NFS, CephFS) the lock is the server's, so it holds
// between machines too.
//
// A lock just given up may still be held for a moment: the kernel releases
// a loop device's file after the device leaves sysfs, sometimes from a work
// queue. Both functions therefore wait up to 2 s for it to go.
#pragma once

#include <string>

#include "vault/vault_error.h"

namespace tazpod::vault {

// Takes the lock on `fd`, open read-write on `image`. kBusy when another
// attachment holds it. A file system that cannot lock at all (some FUSE
// ones) is not an error: that is said on stderr, and the image is used
// unlocked, as before this lock existed.
VaultStatus LockImage(int fd, const std::string& image);

// Whether another attachment holds the lock on `image`: its loop devices,
// its half-made file, are not ours to detach or delete. False when there is
// no such file, or its file system cannot tell.
bool ImageHeldElsewhere(const std::string& image);

}  // namespace tazpod::vault
