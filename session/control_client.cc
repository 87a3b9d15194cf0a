#include "session/control_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common/descriptor_passing.h"
#include "common/unique_fd.h"
#include "common/unix_address.h"
#include "session/protocol.h"

namespace tazpod::session {

namespace {

using Clock = std::chrono::steady_clock;

int MillisLeft(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

// Reads exactly n bytes before the deadline, or until `wake` says to stop.
bool ReadFully(int fd, char* out, size_t n, Clock::time_point deadline, const CallWake& wake, CallResult* result) {
  std::string* error = &result->error;
  size_t got = 0;
  while (got < n) {
    struct pollfd p[2] = {{fd, POLLIN, 0}, {wake.fd, POLLIN, 0}};
    int rc = poll(p, wake.fd >= 0 ? 2 : 1, MillisLeft(deadline));
    if (rc < 0 && errno == EINTR) continue;
    if (rc < 0) {
      *error = std::string("poll: ") + std::strerror(errno);
      return false;
    }
    if (rc == 0) {
      *error = "the supervisor did not answer in time";
      return false;
    }
    // The reply first: a key that comes with it must not throw away an
    // answer that is already here. The key is answered on a later turn.
    if (rc > 0 && p[0].revents == 0 && p[1].revents != 0) {
      if (wake.answer()) continue;
      *error = "left before the supervisor answered";
      result->abandoned = true;
      return false;
    }
    ssize_t r = ReceiveWithDescriptor(fd, out + got, n - got, &result->descriptor);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) {
      *error = r == 0 ? "the supervisor closed the connection" : std::string("read: ") + std::strerror(errno);
      return false;
    }
    got += static_cast<size_t>(r);
  }
  return true;
}

// A socket whose connect() says EAGAIN at once when the listener's backlog
// is full, rather than blocking: ConnectBefore makes it blocking once it is
// connected.
UniqueFd NewSocket() { return UniqueFd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)); }

// connect() before `deadline`. A blocking one waits for as long as a PID 1
// that has stopped accepting keeps its backlog full, and a health probe
// must not hang: `fd` is non-blocking (NewSocket), so a full backlog is
// tried again every 10 ms, or the wait ends at once with *woken set when
// `wake_fd` turns readable. The socket is blocking afterwards.
bool ConnectBefore(int fd, const struct sockaddr_un& addr, Clock::time_point deadline, int wake_fd, bool* woken) {
  for (;;) {
    // EISCONN: a connect begun before (ConnectToRootSocket) that is done.
    if (connect(fd, reinterpret_cast<const struct sockaddr*>(&addr), sizeof addr) == 0 || errno == EISCONN) break;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return false;
    if (Clock::now() >= deadline) {
      errno = ETIMEDOUT;
      return false;
    }
    struct pollfd p = {wake_fd, POLLIN, 0};
    if (poll(&p, 1, 10) > 0 && p.revents != 0) {  // wake_fd -1: a 10 ms sleep
      *woken = true;
      return false;
    }
  }
  const int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0;
}

// A socket whose connection to root's own socket beside `socket_path`
// (RootSocketPath) is made or under way, when root calls: the workstation
// user can fill the shared socket's listen backlog, but not that one's.
// Under way means its backlog is full for now; ConnectBefore waits for it.
// Invalid when the caller is not root, or there is no such socket or nobody
// serves it (a file left by an init that is gone, a server of the tests'
// own): the call then goes to `socket_path` itself.
UniqueFd ConnectToRootSocket(const std::string& socket_path) {
  if (geteuid() != 0) return UniqueFd();
  const std::optional<sockaddr_un> addr = UnixAddress(RootSocketPath(socket_path));
  UniqueFd fd = addr ? NewSocket() : UniqueFd();
  if (!fd) return UniqueFd();
  if (connect(fd.get(), reinterpret_cast<const struct sockaddr*>(&*addr), sizeof *addr) == 0 || errno == EAGAIN ||
      errno == EINTR) {
    return fd;
  }
  return UniqueFd();
}

// 0, or the errno of the write that failed (its text in *error).
int WriteAll(int fd, struct iovec* iov, int count, std::string* error) {
  while (count > 0) {
    // sendmsg, not writev, for MSG_NOSIGNAL: PID 1 may close the connection
    // first (too many connections, shutting down), and that is an error to
    // report (exit 69), not a SIGPIPE that kills the client.
    struct msghdr msg {};
    msg.msg_iov = iov;
    msg.msg_iovlen = static_cast<size_t>(count);
    ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      const int failed = errno;
      *error = std::string("write: ") + std::strerror(failed);
      return failed;
    }
    size_t left = static_cast<size_t>(w);
    while (count > 0 && left >= iov->iov_len) {
      left -= iov->iov_len;
      ++iov;
      --count;
    }
    if (count > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + left;
      iov->iov_len -= left;
    }
  }
  return 0;
}

// Reads one reply into *result: delivered, or an error.
void ReadReply(int fd, Clock::time_point deadline, const CallWake& wake, CallResult* result) {
  unsigned char len[4];
  if (!ReadFully(fd, reinterpret_cast<char*>(len), 4, deadline, wake, result)) return;
  std::uint32_t n = DecodeLength(len);
  if (n == 0 || n > kMaxHeaderBytes) {
    result->error = "malformed reply from the supervisor";
    return;
  }
  std::string reply(n, '\0');
  if (!ReadFully(fd, reply.data(), n, deadline, wake, result)) return;
  result->reply = nlohmann::json::parse(reply, nullptr, false);
  if (result->reply.is_discarded() || !result->reply.is_object()) {
    result->error = "malformed reply from the supervisor";
    return;
  }
  result->delivered = true;
}

}  // namespace

CallResult Call(const std::string& socket_path, const nlohmann::json& header, SecretBuffer* secret,
                std::chrono::milliseconds timeout, const CallWake& wake) {
  // On every way out, before the wait for the reply if the request is sent.
  struct WipeOnReturn {
    SecretBuffer* secret;
    ~WipeOnReturn() {
      if (secret) secret->Clear();
    }
  } wipe{secret};
  CallResult result;
  const Clock::time_point deadline = Clock::now() + timeout;
  if (!UnixAddress(socket_path)) {
    result.error = "not a usable Unix socket path (empty, longer than " + std::to_string(kMaxUnixSocketPath) +
                   " bytes, or holding a NUL): " + socket_path;
    return result;
  }
  std::string path = RootSocketPath(socket_path);
  UniqueFd fd = ConnectToRootSocket(socket_path);
  if (!fd) {
    path = socket_path;
    fd = NewSocket();
    if (!fd) {
      result.error = std::string("socket: ") + std::strerror(errno);
      return result;
    }
  }
  const std::optional<sockaddr_un> addr = UnixAddress(path);  // checked above, and by ConnectToRootSocket
  bool woken = false;
  if (!ConnectBefore(fd.get(), *addr, deadline, wake.fd, &woken)) {
    if (woken) {
      result.error = "left before the request reached the supervisor";
      result.abandoned = true;
      return result;
    }
    result.error = "cannot reach the TazPod supervisor at " + path + ": " + std::strerror(errno) +
                   " (is `tazpod init` running as this container's PID 1?)";
    return result;
  }
  const std::string text = header.dump();
  unsigned char header_len[4], secret_len[4];
  EncodeLength(static_cast<std::uint32_t>(text.size()), header_len);
  const size_t secret_size = secret ? secret->size() : 0;
  EncodeLength(static_cast<std::uint32_t>(secret_size), secret_len);
  struct iovec iov[4] = {{header_len, 4},
                         {const_cast<char*>(text.data()), text.size()},
                         {secret_len, 4},
                         {secret ? secret->data() : nullptr, secret_size}};
  if (const int failed = WriteAll(fd.get(), iov, secret_size ? 4 : 3, &result.error)) {
    // PID 1 closed the connection before it had the whole request, so it
    // acted on nothing (`sent` stays false). It may have said why first
    // (a connection turned away at the door): that answer is the one to
    // report, not the broken pipe.
    if (failed == EPIPE || failed == ECONNRESET) {
      CallResult answer;
      ReadReply(fd.get(), deadline, {}, &answer);
      if (answer.delivered) return answer;
    }
    return result;
  }
  result.sent = true;
  if (secret) secret->Clear();
  ReadReply(fd.get(), deadline, wake, &result);
  return result;
}

}  // namespace tazpod::session
