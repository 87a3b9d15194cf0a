#include "init/mount_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tazpod::init {

// A child unshares its mount namespace, makes every mount in it a slave,
// reports, and waits for the parent to open /proc/CHILD/ns/mnt before it
// exits: the open descriptor then keeps the namespace alive on its own.
UniqueFd CreatePrivateMountNamespace(std::string* error) {
  int ready[2], release[2];
  if (pipe2(ready, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return {};
  }
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  if (pipe2(release, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + std::strerror(errno);
    return {};
  }
  UniqueFd release_read(release[0]), release_write(release[1]);

  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return {};
  }
  if (pid == 0) {
    // Our copy of the parent's end would keep the release pipe open forever.
    release_write.Reset();
    ready_read.Reset();
    // Reports one byte: '0' on success, else the errno's step letter.
    char status = '0';
    if (unshare(CLONE_NEWNS) != 0) status = 'u';
    else if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) status = 'm';
    ssize_t ignored = write(ready_write.get(), &status, 1);
    (void)ignored;
    char byte;
    ignored = read(release_read.get(), &byte, 1);  // returns when the parent closes its end
    _exit(status == '0' ? 0 : 1);
  }
  ready_write.Reset();
  release_read.Reset();

  char status = 0;
  ssize_t n;
  do n = read(ready_read.get(), &status, 1);
  while (n < 0 && errno == EINTR);
  UniqueFd ns;
  if (n != 1) {
    *error = "the namespace child died before it reported";
  } else if (status == 'u') {
    *error = "unshare(CLONE_NEWNS) failed (the container needs CAP_SYS_ADMIN)";
  } else if (status == 'm') {
    *error = "cannot make the new namespace's mounts slaves";
  } else {
    const std::string path = "/proc/" + std::to_string(pid) + "/ns/mnt";
    ns.Reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns) *error = "open " + path + ": " + std::strerror(errno);
  }
  release_write.Reset();
  int child_status;
  while (waitpid(pid, &child_status, 0) < 0 && errno == EINTR) {
  }
  return ns;
}

}  // namespace tazpod::init
