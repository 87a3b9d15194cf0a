#include "init/mount_namespace.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/descriptor_passing.h"

namespace tazpod::init {

// A child unshares its mount namespace, makes every mount in it a slave,
// opens its own /proc/self/ns/mnt and sends that descriptor back over a
// socket pair: the descriptor then keeps the namespace alive on its own.
//
// The child opens it, not the parent: PID 1 is not dumpable and neither is
// its forked child, so opening /proc/CHILD/ns/mnt (a ptrace-mode check)
// would need CAP_SYS_PTRACE, which Docker's default capabilities (and
// compose.yaml) do not grant. A process may always open its own.
UniqueFd CreatePrivateMountNamespace(std::string* error) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) {
    *error = std::string("socketpair: ") + std::strerror(errno);
    return {};
  }
  UniqueFd ours(pair[0]), theirs(pair[1]);

  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + std::strerror(errno);
    return {};
  }
  if (pid == 0) {
    ours.Reset();
    // Reports one byte: '0' on success (with the descriptor), else the
    // failed step's letter.
    char status = '0';
    int ns = -1;
    if (unshare(CLONE_NEWNS) != 0) status = 'u';
    else if (mount(nullptr, "/", nullptr, MS_REC | MS_SLAVE, nullptr) != 0) status = 'm';
    else if ((ns = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC)) < 0) status = 'o';
    // If this fails the parent reads no status byte and says the child died
    // before it reported: nothing more to do here.
    (void)SendWithDescriptor(theirs.get(), &status, 1, ns);
    _exit(status == '0' ? 0 : 1);
  }
  theirs.Reset();

  char status = 0;
  UniqueFd ns;
  const ssize_t n = ReceiveWithDescriptor(ours.get(), &status, 1, &ns);
  if (n != 1) {
    *error = "the namespace child died before it reported";
  } else if (status == 'u') {
    *error = "unshare(CLONE_NEWNS) failed (the container needs CAP_SYS_ADMIN)";
  } else if (status == 'm') {
    *error = "cannot make the new namespace's mounts slaves";
  } else if (status == 'o') {
    *error = "the namespace child cannot open its /proc/self/ns/mnt";
  } else if (!ns) {
    *error = "the namespace child sent no descriptor";
  }
  int child_status;
  while (waitpid(pid, &child_status, 0) < 0 && errno == EINTR) {
  }
  if (n != 1 || status != '0') ns.Reset();
  return ns;
}

}  // namespace tazpod::init
