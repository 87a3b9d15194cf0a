// The client end of the control protocol (session/protocol.h): one request,
// one reply, with a deadline, so a hung supervisor makes a client fail
// rather than hang. Blocking; for the `tazpod` client commands.
#pragma once

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/secret_buffer.h"
#include "common/unique_fd.h"

namespace tazpod::session {

// Its implicit moves are noexcept; clang-tidy 14 follows nlohmann::json's
// internal assertion into code that can throw.
// NOLINTNEXTLINE(bugprone-exception-escape)
struct CallResult {
  bool delivered = false;  // a reply arrived (it may still say ok=false)
  // The whole request was written to the supervisor's socket. Without a
  // reply, the supervisor may or may not have acted on it.
  bool sent = false;
  nlohmann::json reply;
  std::string error;  // why no reply arrived
  bool abandoned = false;  // the caller's CallWake stopped the wait
  UniqueFd descriptor;  // passed with the reply, if the supervisor passed one
};

// Something else a caller answers while Call waits for the reply (a key's
// signal: init's answer may take an unlock's whole time). When `fd` is
// readable and the reply is not, `answer` runs; it must consume what made
// it readable, and returns whether to go on waiting. Before the request is
// sent (a PID 1 whose backlog is full), a readable `fd` ends the call at
// once, abandoned with nothing asked (`sent` false). fd -1: nothing to
// answer.
struct CallWake {
  int fd = -1;
  std::function<bool()> answer;
};

// Sends `header` and, if given, `secret` to the supervisor at `socket_path`
// and waits up to `timeout` for its reply. The secret is written straight
// from the SecretBuffer, and wiped (Clear()) as soon as it is written: the
// reply may take an unlock's whole time, or a passphrase change's minutes,
// and the client has no further use for it. It is wiped when Call returns
// without having written it, too.
CallResult Call(const std::string& socket_path, const nlohmann::json& header, SecretBuffer* secret,
                std::chrono::milliseconds timeout, const CallWake& wake = {});

}  // namespace tazpod::session
