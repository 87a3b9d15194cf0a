#include "common/descriptor_passing.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tazpod {

namespace {

// Room for a few descriptors: a peer that sends more than one still gets
// them received (and closed) rather than silently truncated.
constexpr size_t kMaxReceived = 4;

}  // namespace

ssize_t SendWithDescriptor(int socket, const void* data, size_t size, int descriptor) {
  union {
    char buffer[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } control{};
  struct iovec iov = {const_cast<void*>(data), size};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (descriptor >= 0) {
    msg.msg_control = control.buffer;
    msg.msg_controllen = sizeof control.buffer;
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &descriptor, sizeof(int));
  }
  ssize_t n;
  do n = sendmsg(socket, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

ssize_t ReceiveWithDescriptor(int socket, void* data, size_t size, UniqueFd* descriptor) {
  union {
    char buffer[CMSG_SPACE(sizeof(int) * kMaxReceived)];
    struct cmsghdr align;
  } control{};
  struct iovec iov = {data, size};
  struct msghdr msg {};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.buffer;
  msg.msg_controllen = sizeof control.buffer;
  ssize_t n;
  do n = recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) return n;
  for (struct cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int passed;
      std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      if (!descriptor->valid()) descriptor->Reset(passed);
      else close(passed);
    }
  }
  return n;
}

}  // namespace tazpod
