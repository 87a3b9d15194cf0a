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
// and the kernel drops it when the loop device lets the file go.
//
// The rule for everyone else: detach what backs an image, or delete a
// half-made one, only while holding a lock on it (a read lock is enough to
// keep attachers out) and, to delete, only the file the path still names.
//
// Where the lock reaches: on a local file system, every container on that
// kernel. On NFS or CephFS mounted with locking, the server's lock, so
// between machines too; mounted without (NFS `nolock`, `local_lock=posix`
// or `all`), or
// on a FUSE file system that does not implement locks, the kernel locks
// locally and another machine does not see it. A file system that refuses
// locks outright is said on stderr, and the image is then used unlocked.
//
// A lock just given up may still be held for a moment: the kernel releases
// a loop device's file after the device leaves sysfs, sometimes from a work
// queue. Taking a lock therefore waits up to 2 s for it to go.
#pragma once

#include <sys/stat.h>

#include <string>

#include "common/unique_fd.h"
#include "vault/vault_error.h"

namespace tazpod::vault {

// Takes the write lock on `fd`, open read-write on `image`. kBusy, step
// "in_use", when another attachment holds it.
VaultStatus LockImage(int fd, const std::string& image);

// Opens `path` with `access` (O_RDONLY or O_RDWR), without following a
// link, and only if it is a regular file, whose status it leaves in *st;
// else an invalid descriptor, with *not_regular set when it was something
// else. Whoever can write to the
// image's directory (an enclave still open to all, a volume the user owns)
// may put a FIFO there: opened blocking, it would hold the helper until
// PID 1's operation timeout, at every unlock (and a terminal must not
// become the helper's: it leads a session).
UniqueFd OpenRegularFile(const std::string& path, int access, bool* not_regular, struct stat* st);

// Whether `st` is as every image the helper makes: root's, and closed to
// others (0600).
bool RootsAndClosed(const struct stat& st);

// Refuses, as kInvalid step "image", a file that is no vault image of
// TazPod's: not a regular file, or not RootsAndClosed. Another user's file
// in the image's place (in an enclave open to all before the vault closed
// it, on a volume the user can write) would get the user's passphrase
// tried on it, or the vault's data written to it, where its owner could
// read them back.
VaultStatus RefuseForeignImage(const std::string& image, const struct stat& st);

// Opens `image` read-write without following a link and takes its write
// lock, for an attachment. On failure an invalid descriptor and *error set
// (and errno, when the open failed). Anything but a regular file (a FIFO
// would block the open) is refused: kInvalid, step "image"; so is a file
// RefuseForeignImage refuses, checked on the open file, not its path.
UniqueFd OpenLockedImage(const std::string& image, VaultError* error);

// Opens `image` read-only and takes a read lock on it, which keeps any
// attacher out while it is held. An invalid descriptor when there is no
// such regular file (and *busy false), or when another attachment holds the
// image (*busy true). Other failures (a file system that cannot lock) give a
// descriptor without a lock: the caller goes on as before the lock existed.
UniqueFd HoldImage(const std::string& image, bool* busy);

// Whether the file open as `fd` is still the one `path` names (a file
// deleted, or replaced by another, is not).
bool StillNamedBy(int fd, const std::string& path);

// Deletes an image this unlock is creating, unless Release()d: a first
// unlock that fails leaves the vault absent, as it was. By the rule above:
// the guard keeps a descriptor of its own on the locked image, so the lock
// still holds when the loop device that had it is gone, and it deletes
// only the file the path still names.
class NewImageGuard {
 public:
  // Guards nothing when `active` is false (the image was there before).
  // `locked`: the new image's descriptor, write-locked. When no descriptor
  // can be kept (EMFILE), the image is deleted at once, while `locked`
  // still holds the lock, and error() says why: the unlock must give up,
  // for a deletion by path alone could take another container's image.
  NewImageGuard(std::string path, bool active, int locked);
  ~NewImageGuard();
  NewImageGuard(const NewImageGuard&) = delete;
  NewImageGuard& operator=(const NewImageGuard&) = delete;

  // The errno of keeping the descriptor, or 0.
  int error() const { return error_; }
  // The image is complete: keep it.
  void Release();
  // The image now has this name (renamed to the vault's own).
  void Renamed(std::string path);

 private:
  std::string path_;
  UniqueFd held_;
  int error_ = 0;
};

}  // namespace tazpod::vault
