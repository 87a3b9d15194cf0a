#include "session/control_server.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>

#include "common/descriptor_passing.h"
#include "common/descriptors.h"
#include "common/flood_limit.h"
#include "common/kernel_timer.h"
#include "common/log.h"
#include "common/pidfd.h"
#include "common/unix_address.h"
#include "session/protocol.h"

namespace tazpod::session {

namespace asio = boost::asio;
using local = asio::local::stream_protocol;

namespace {

// A connection's socket, its deadline's timerfd and its peer's pidfd. The
// socket is open when a connection is admitted: it is counted among those
// DescriptorsLeft() no longer has; the other two are still to be opened.
constexpr long kDescriptorsPerConnection = 3;

// Fills peer->pidfd from SO_PEERPIDFD, or sets peer->gone when the kernel
// says the process that connected is gone. Any other failure (before
// Linux 6.5, out of descriptors, an LSM's refusal) leaves both: the gate
// names the process by its pid then, as before 6.5.
void NamePeerProcess(int connection, PeerCredentials* peer) {
  UniqueFd pidfd = PeerPidFd(connection);
  if (pidfd) {
    peer->pidfd = std::make_shared<const UniqueFd>(std::move(pidfd));
    return;
  }
  if (errno == ESRCH || errno == EINVAL) peer->gone = true;
}

// Whether a process listens on the Unix socket at `path`: a connection is
// taken, or its backlog is full (EAGAIN). A socket nobody listens on any
// more refuses (ECONNREFUSED); no file there, or no socket, is ENOENT or
// ECONNREFUSED too.
bool ServedByAnother(const std::string& path) {
  const std::optional<sockaddr_un> addr = UnixAddress(path);
  UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!probe || !addr) return false;
  // Non-blocking: a Unix socket connects at once or fails at once.
  return connect(probe.get(), reinterpret_cast<const struct sockaddr*>(&*addr), sizeof *addr) == 0 || errno == EAGAIN;
}

// Answers a connection turned away before it is served, so that its
// client can say why, and that nothing was done, instead of reporting a
// connection lost after its request was written (which `tazpod passwd`
// must read as "the passphrase may have changed"). The reply is small and
// the new socket's buffer empty: one non-blocking send, and a client
// already gone needs no answer.
void AnswerTurnedAway(int connection, const char* error) {
  const std::string reply = FrameReply({{"v", kProtocolVersion}, {"ok", false}, {"error", error}});
  (void)send(connection, reply.data(), reply.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
}

}  // namespace

// One client: read [len][header], find its op, read [len][secret] if the op
// takes it from this client, dispatch, write the reply, close.
class ControlServer::Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(ControlServer& server, local::socket socket)
      : server_(server),
        active_(server.active_),
        user_passphrases_(server.user_passphrases_),
        socket_(std::move(socket)),
        deadline_(server.io_) {
    ++*active_;
  }

  // Not through server_: a connection can outlive the server, when PID 1
  // exits with one still open (its handlers, or a queued login's reply,
  // are destroyed after the components).
  ~Connection() {
    --*active_;
    ReleaseUserPassphrase();
  }

  void Start(const PeerCredentials& peer) {
    request_.peer = peer;
    deadline_.expires_after(std::chrono::milliseconds(kReadTimeoutMs));
    deadline_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      // Expired in the same turn of the loop as the last read completed:
      // cancel() came too late to stop this handler, and the request is
      // already being answered.
      if (ec || !self->reading_) return;
      LogFromPeer(LogLevel::kWarn, "control.refused", self->request_.peer.uid,
                  {{"reason", "read_timeout"}, {"pid", self->request_.peer.pid}});
      self->socket_.close();
    });
    ReadHeaderLength();
  }

 private:
  void ReadHeaderLength() {
    asio::async_read(socket_, asio::buffer(length_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->Close();
      std::uint32_t n = DecodeLength(self->length_.data());
      if (const char* error = HeaderLengthError(n)) return self->Fail(error);
      self->header_.resize(n);
      self->ReadHeader();
    });
  }

  void ReadHeader() {
    asio::async_read(socket_, asio::buffer(header_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->Close();
      self->FindRoute();
    });
  }

  void ReleaseUserPassphrase() {
    if (!holds_user_passphrase_) return;
    holds_user_passphrase_ = false;
    --*user_passphrases_;
  }

  // Before any passphrase is read: whether one may follow depends on the op.
  void FindRoute() {
    std::string error;
    std::optional<RequestHeader> parsed = ParseRequestHeader(header_, &error);
    if (!parsed) return Fail(error);
    auto it = server_.routes_.find(parsed->op);
    if (it == server_.routes_.end()) {
      // The client chose it, up to the 16 KiB of a header: echoed in part.
      constexpr size_t kEchoed = 64;
      std::string op = parsed->op.substr(0, kEchoed);
      if (parsed->op.size() > kEchoed) op += "...";
      return Fail("unknown op \"" + op + "\"");
    }
    route_ = &it->second;
    request_.op = std::move(parsed->op);
    request_.header = std::move(parsed->json);
    ReadSecretLength();
  }

  void ReadSecretLength() {
    asio::async_read(socket_, asio::buffer(length_), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->Close();
      std::uint32_t n = DecodeLength(self->length_.data());
      if (const char* error = SecretLengthError(n)) return self->Fail(error);
      if (n == 0) return self->Dispatch();
      const bool from_root = self->request_.peer.uid == 0;
      switch (self->route_->passphrase) {
        case Passphrase::kNone:
          return self->Fail(self->request_.op + " takes no passphrase");
        case Passphrase::kFromRoot:
          // Unread, never in memory: the handler refuses this caller.
          if (!from_root) return self->Dispatch();
          break;
        case Passphrase::kFromRootOrUser:
          if (from_root) break;
          if (*self->user_passphrases_ >= kUserPassphrases)
            return self->Fail("too many passphrases of this user's are waiting; try again once they are answered");
          ++*self->user_passphrases_;
          self->holds_user_passphrase_ = true;
          break;
      }
      self->ReadSecret(n);
    });
  }

  void ReadSecret(std::uint32_t n) {
    request_.secret = SecretBuffer(kMaxSecretBytes);
    // A passphrase in memory that may be swapped out is refused, not
    // taken: PID 1 needs CAP_IPC_LOCK (a privileged container has it).
    if (request_.secret.valid() && !request_.secret.locked())
      return Fail("cannot lock memory for the passphrase (CAP_IPC_LOCK or RLIMIT_MEMLOCK)");
    char* into = request_.secret.Extend(n);
    if (!into) return Fail("cannot allocate locked memory");
    asio::async_read(socket_, asio::buffer(into, n), [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->Close();
      self->Dispatch();
    });
  }

  void Dispatch() {
    reading_ = false;
    deadline_.cancel();
    auto self = shared_from_this();
    route_->handler(request_, ControlReply([self](const nlohmann::json& reply, int descriptor) { self->Send(reply, descriptor); }));
  }

  // A client that went away (or sent half a message) gets nothing; its
  // connection is released at once, not when the read deadline fires.
  void Close() {
    reading_ = false;
    deadline_.cancel();
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  void Fail(const std::string& reason) {
    LogFromPeer(LogLevel::kWarn, "control.refused", request_.peer.uid, {{"reason", reason}, {"pid", request_.peer.pid}});
    Send({{"v", kProtocolVersion}, {"ok", false}, {"error", reason}});
  }

  void Send(const nlohmann::json& reply, int descriptor = -1) {
    if (sent_) return;
    sent_ = true;
    // Answered: the passphrase is used (or refused), whoever still holds
    // a copy of the reply (a helper's completion, until it is reaped).
    request_.secret = SecretBuffer::None();
    ReleaseUserPassphrase();
    reply_ = FrameReply(reply);
    size_t skip = 0;
    if (descriptor >= 0) {
      // The descriptor rides on the first byte of the reply. The socket's
      // buffer is empty (one request, one reply), so this cannot block.
      if (SendWithDescriptor(socket_.native_handle(), reply_.data(), 1, descriptor) != 1) {
        Log(LogLevel::kError, "control.send_failed", {{"error", std::strerror(errno)}, {"pid", request_.peer.pid}});
        return Close();
      }
      skip = 1;
    }
    asio::async_write(socket_, asio::buffer(reply_) + skip, [self = shared_from_this()](boost::system::error_code, size_t) {
      self->deadline_.cancel();
      boost::system::error_code ignored;
      self->socket_.shutdown(local::socket::shutdown_both, ignored);
      self->socket_.close(ignored);
    });
  }

  ControlServer& server_;  // used only from handlers, which the loop runs while the server lives
  std::shared_ptr<int> active_;
  std::shared_ptr<int> user_passphrases_;
  bool holds_user_passphrase_ = false;
  const Route* route_ = nullptr;  // the op's, once its header is read
  local::socket socket_;
  KernelTimer deadline_;
  std::array<unsigned char, 4> length_{};
  std::string header_;
  ControlRequest request_;
  bool reading_ = true;  // until the request is whole, or the client gone
  bool sent_ = false;
  std::string reply_;  // framed; kept until written
};

ControlServer::ControlServer(asio::io_context& io, std::string path, uid_t allowed_uid, gid_t group)
    : io_(io),
      allowed_uid_(allowed_uid),
      group_(group),
      shared_(io, std::move(path), /*only_root=*/false, "control.accept_failed"),
      root_(io, RootSocketPath(shared_.path), /*only_root=*/true, "control.root_accept_failed") {  // after shared_
  // Answers as long as the loop does: the cheapest liveness check there is.
  Handle("control.ping", [](ControlRequest&, const Reply& reply) { reply({{"v", kProtocolVersion}, {"ok", true}}); });
}

ControlServer::~ControlServer() {
  accepting_ = false;
  boost::system::error_code ignored;
  shared_.acceptor.close(ignored);
  root_.acceptor.close(ignored);
}

std::string ControlServer::Listen() {
  for (const Listener* listener : {&shared_, &root_}) {
    if (!UnixAddress(listener->path)) return "not a Unix socket's path: " + listener->path;  // init's configuration checks
  }
  const std::string& path = shared_.path;
  const size_t slash = path.rfind('/');
  const std::string dir = slash == 0 ? "/" : path.substr(0, slash);  // the configuration makes it absolute
  // The sockets' directory, 0750 root:GROUP, is the first gate to them. One
  // that exists already is used as it is, and only if nobody but root can
  // write to it: its mode is never changed, so a socket configured in a
  // shared directory (/tmp, /run) cannot make that directory ours.
  const bool made = mkdir(dir.c_str(), 0750) == 0;
  if (!made && errno != EEXIST) return "mkdir " + dir + ": " + std::strerror(errno);
  // From here on by a descriptor: whoever may write to a directory above it
  // could swap it (for a symbolic link, say) between this check and the
  // chown of a socket in it.
  const UniqueFd dir_fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir_fd) return "open " + dir + ": " + std::strerror(errno);
  struct stat st;
  if (fstat(dir_fd.get(), &st) != 0) return "stat " + dir + ": " + std::strerror(errno);
  // One just made is root's too, unless another was swapped in meanwhile.
  if (st.st_uid != 0 || (!made && (st.st_mode & (S_IWGRP | S_IWOTH)) != 0))
    return dir + " may be written by others than root: give session.socket a directory of its own";
  if (made && (fchown(dir_fd.get(), 0, group_) != 0 || fchmod(dir_fd.get(), 0750) != 0))
    return "chown/chmod " + dir + ": " + std::strerror(errno);
  // A socket that another process still serves (a second `tazpod init`
  // given the same path) is not taken from it: its path would lead nowhere
  // once this one exits. Both are looked at before either is touched.
  for (const Listener* listener : {&shared_, &root_}) {
    if (ServedByAnother(listener->path))
      return "another process serves " + listener->path + ": give session.socket a path of its own";
  }
  std::string error = ListenOn(root_, dir_fd.get(), 0, 0600);
  if (!error.empty()) return error;
  error = ListenOn(shared_, dir_fd.get(), group_, 0660);
  if (!error.empty()) {
    // Root's alone would take root's requests and never answer them.
    boost::system::error_code ignored;
    root_.acceptor.close(ignored);
    unlinkat(dir_fd.get(), root_.name.c_str(), 0);
    return error;
  }
  accepting_ = true;
  Accept(root_);
  Accept(shared_);
  return "";
}

std::string ControlServer::ListenOn(Listener& listener, int dir_fd, gid_t group, mode_t mode) {
  const char* name = listener.name.c_str();
  // A socket left by an earlier run is replaced; anything else there is not
  // init's to delete.
  struct stat st;
  if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (!S_ISSOCK(st.st_mode)) return listener.path + " is there and is not a socket: give session.socket a path of its own";
    if (unlinkat(dir_fd, name, 0) != 0) return "unlink " + listener.path + ": " + std::strerror(errno);
  } else if (errno != ENOENT) {
    return "stat " + listener.path + ": " + std::strerror(errno);
  }
  boost::system::error_code ec;
  listener.acceptor.open(local(), ec);
  if (!ec) listener.acceptor.bind(local::endpoint(listener.path), ec);
  if (ec) {
    std::string error = "listen on " + listener.path + ": " + ec.message();
    listener.acceptor.close(ec);  // bind failed: there is no file of ours to remove
    return error;
  }
  // Owner and mode before listen(): until then every connect is refused, so
  // no other uid ever gets in while the umask's mode is still on it.
  std::string error;
  if (fchownat(dir_fd, name, 0, group, AT_SYMLINK_NOFOLLOW) != 0 || fchmodat(dir_fd, name, mode, 0) != 0)
    error = "chown/chmod " + listener.path + ": " + std::strerror(errno);
  else if (listener.acceptor.listen(asio::socket_base::max_listen_connections, ec); ec)
    error = "listen on " + listener.path + ": " + ec.message();
  if (!error.empty()) {
    listener.acceptor.close(ec);
    unlinkat(dir_fd, name, 0);
  }
  return error;
}

void ControlServer::Handle(const std::string& op, Handler handler, Passphrase passphrase) {
  routes_[op] = Route{std::move(handler), passphrase};
}

void ControlServer::StopAccepting() {
  accepting_ = false;
  boost::system::error_code ignored;
  for (Listener* listener : {&shared_, &root_}) {
    listener->acceptor.close(ignored);
    listener->retry.Cancel();
  }
}

void ControlServer::Accept(Listener& listener) {
  if (!accepting_) return;  // a retry that comes after StopAccepting()
  listener.acceptor.async_accept([this, &listener](boost::system::error_code ec, local::socket socket) {
    // First: after StopAccepting() or the destructor, the server may be gone.
    if (ec == asio::error::operation_aborted || !accepting_) return;
    if (ec) return listener.retry.Failed(ec.message(), [this, &listener] { Accept(listener); });
    listener.retry.Succeeded();
    // Whatever this throws (an allocation), accepting goes on: root's
    // `tazpod health` and `tazpod vault lock` come this way.
    try {
      Admit(std::move(socket), listener);
      Accept(listener);
    } catch (const std::exception& e) {
      listener.retry.Failed(e.what(), [this, &listener] { Accept(listener); });
    }
  });
}

void ControlServer::Admit(local::socket socket, const Listener& listener) {
  struct ucred cred {};
  socklen_t len = sizeof cred;
  const int fd = socket.native_handle();
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    LogFromPeer(LogLevel::kWarn, "control.refused", -1, {{"reason", "no_peer_credentials"}});
    AnswerTurnedAway(fd, "PID 1 cannot tell who is calling; nothing was done");
  } else if (cred.uid != 0 && (cred.uid != allowed_uid_ || listener.root_only)) {
    LogFromPeer(LogLevel::kWarn, "control.refused", cred.uid,
                {{"reason", "uid_not_allowed"}, {"uid", cred.uid}, {"pid", cred.pid}});
    AnswerTurnedAway(fd, listener.root_only ? "this socket serves root only"
                                            : "this socket serves root and the workstation user only");
  } else if (*active_ >= kMaxConnections || (cred.uid != 0 && *active_ >= kMaxConnections - kReservedForRoot)) {
    LogFromPeer(LogLevel::kWarn, "control.refused", cred.uid,
                {{"reason", "too_many_connections"}, {"pid", cred.pid}, {"uid", cred.uid}});
    AnswerTurnedAway(fd, "PID 1 is serving too many connections; nothing was done, try again shortly");
  } else if (cred.uid != 0 && DescriptorsLeft(fd) < kDescriptorsPerConnection - 1 + kDescriptorsKeptFree) {
    LogFromPeer(LogLevel::kWarn, "control.refused", cred.uid,
                {{"reason", "too_few_descriptors"}, {"pid", cred.pid}, {"uid", cred.uid}});
    AnswerTurnedAway(fd, "PID 1 is short of file descriptors; nothing was done, try again shortly");
  } else {
    PeerCredentials peer;
    peer.pid = cred.pid;
    peer.uid = cred.uid;
    peer.gid = cred.gid;
    NamePeerProcess(fd, &peer);
    std::make_shared<Connection>(*this, std::move(socket))->Start(peer);
  }
}

}  // namespace tazpod::session
