// ControlServer: PID 1's end of the control socket (/run/tazpod/control.sock).
//
// Runs on PID 1's event loop and never blocks it: every read has a deadline
// (a slow or silent client is dropped), sizes are checked before anything is
// read, and at most kMaxConnections are served at once, some of them kept
// for root. Only root and the workstation user may connect: the directory
// is 0750 root:GROUP, the socket 0660 root:GROUP, and every connection's
// SO_PEERCRED is checked as well. Beside it, root has a socket of its own
// (RootSocketPath, 0600 root:root) that the user cannot reach: however fast
// the user connects to the shared socket, filling its listen backlog before
// PID 1 can take and refuse what is over the limits below, root's requests
// still get in (the clients use it when run as root).
//
// One request per connection; a handler answers through its Reply exactly
// once, now or later (after a vault operation, say).
#pragma once

#include <sys/types.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/accept_retry.h"
#include "common/secret_buffer.h"
#include "common/unique_fd.h"

namespace tazpod::session {

struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  // The process that connected, as the kernel recorded it at connect()
  // (SO_PEERPIDFD, Linux 6.5): it names that process even once its pid has
  // gone to another, which `pid` would then name. Null where the kernel
  // gives none (before 6.5, PID 1 out of descriptors: only `pid` names it
  // then), or when `gone`. Shared by the copies of these credentials;
  // closed with the last.
  std::shared_ptr<const UniqueFd> pidfd;
  // The kernel has SO_PEERPIDFD, and the process that connected is gone.
  bool gone = false;
};

struct ControlRequest {
  std::string op;
  nlohmann::json header;
  // Empty, and no memory at all, unless the client sent passphrases the op
  // takes from it (ControlServer::Passphrase): only then does a connection
  // hold a locked page.
  SecretBuffer secret = SecretBuffer::None();
  PeerCredentials peer;
};

// How a handler answers, exactly once. Copyable, so it can wait in a
// callback until a vault operation ends.
class ControlReply {
 public:
  using Send = std::function<void(const nlohmann::json& reply, int descriptor)>;
  explicit ControlReply(Send send) : send_(std::move(send)) {}

  void operator()(const nlohmann::json& reply) const { send_(reply, -1); }

  // Also passes a duplicate of `descriptor` to the client (SCM_RIGHTS): the
  // gate hands a session the mount namespace it must join this way.
  void WithDescriptor(const nlohmann::json& reply, int descriptor) const { send_(reply, descriptor); }

 private:
  Send send_;
};

class ControlServer {
 public:
  using Reply = ControlReply;
  using Handler = std::function<void(ControlRequest& request, Reply reply)>;

  // Whose passphrase an op takes. A passphrase is read into locked memory,
  // and locked memory is scarce (RLIMIT_MEMLOCK may be 64 KiB without
  // CAP_IPC_LOCK): the server locks a page only for an op that uses the
  // passphrase, and only for a caller the op serves, so the workstation
  // user's connections cannot use up what root's login needs.
  enum class Passphrase {
    // The op takes none: a request that sends one is refused.
    kNone,
    // Root's is read. Another uid's is left unread, and the handler sees
    // none: it must refuse that uid (the vault ops, gate.login do).
    kFromRoot,
    // Root's is read, and the workstation user's as well, but at most
    // kUserPassphrases of the user's are held at once (gate.passwd).
    kFromRootOrUser,
  };
  // One for the user's `tazpod passwd`, and one for a second that races it.
  // Each takes a locked page until its request is answered (or its
  // connection ends).
  static constexpr int kUserPassphrases = 2;

  static constexpr int kMaxConnections = 32;
  // Of those, the workstation user may hold all but these: filling the
  // socket (or queueing that many logins) must not shut out root's
  // `tazpod health` (Docker's HEALTHCHECK) and `tazpod vault lock`.
  static constexpr int kReservedForRoot = 8;
  // And the workstation user's connections must leave this many
  // descriptors free under RLIMIT_NOFILE, as the health endpoint's do: each
  // holds three (its socket, its deadline's timerfd, its peer's pidfd), and
  // under a low limit 24 of them would take what PID 1's reaping, vault
  // helpers and root's own connections need. Root's are bounded by the
  // reserve above only, so that its health check still gets in.
  static constexpr long kDescriptorsKeptFree = 64;
  static constexpr int kReadTimeoutMs = 5000;

  // `allowed_uid`: the workstation user (root is always allowed);
  // `group`: the group that may reach the socket.
  ControlServer(boost::asio::io_context& io, std::string path, uid_t allowed_uid, gid_t group);
  ~ControlServer();

  // Creates the directory and the two sockets (the shared one and root's)
  // and starts accepting on both. Returns an error message, or an empty
  // string.
  std::string Listen();

  // Serves `op` with `handler`; `passphrase` says whose passphrase it takes.
  void Handle(const std::string& op, Handler handler, Passphrase passphrase = Passphrase::kNone);

  // Refuses new connections from now on (shutdown); requests already being
  // served are answered.
  void StopAccepting();

  int active_connections() const { return *active_; }

  // True while accept(2) fails on either socket (out of descriptors, say):
  // requests wait there, not even root's get in, until a retry succeeds
  // (every 100 ms). accept_error() says why; it is empty otherwise.
  bool accept_failing() const { return shared_.retry.failing() || root_.retry.failing(); }
  const std::string& accept_error() const {
    return shared_.retry.failing() ? shared_.retry.error() : root_.retry.error();
  }

 private:
  class Connection;
  // One socket the server accepts on.
  struct Listener {
    Listener(boost::asio::io_context& io, std::string socket_path, bool only_root, const char* failed_event)
        : path(std::move(socket_path)),
          name(path.substr(path.rfind('/') + 1)),
          root_only(only_root),
          acceptor(io),
          retry(io, failed_event) {}
    std::string path;
    std::string name;  // path's last component: the sockets' directory is opened once, by descriptor
    bool root_only;  // root's own socket: nobody else is admitted
    boost::asio::local::stream_protocol::acceptor acceptor;
    AcceptRetry retry;  // while accept(2) fails for good
  };
  // Binds `listener` to its path, whose directory is `dir_fd`, owned by
  // root and `group` with `mode`, and listens.
  std::string ListenOn(Listener& listener, int dir_fd, gid_t group, mode_t mode);
  void Accept(Listener& listener);
  // Serves the accepted `socket`, or refuses it (logged).
  void Admit(boost::asio::local::stream_protocol::socket socket, const Listener& listener);

  boost::asio::io_context& io_;
  uid_t allowed_uid_;
  gid_t group_;
  Listener shared_;  // session.socket: root and the workstation user
  Listener root_;    // RootSocketPath(session.socket): root only
  struct Route {
    Handler handler;
    Passphrase passphrase;
  };
  std::map<std::string, Route> routes_;
  // Shared with each connection, which counts itself out when it ends:
  // all of them, and those holding a passphrase of the workstation user's.
  std::shared_ptr<int> active_ = std::make_shared<int>(0);
  std::shared_ptr<int> user_passphrases_ = std::make_shared<int>(0);
  bool accepting_ = false;
};

}  // namespace tazpod::session
