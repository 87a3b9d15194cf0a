// The control protocol between `tazpod` clients and PID 1, version 1
// (docs/protocol.md).
//
// One request and one reply per connection. A message is two length-framed
// parts, each length a 4-byte big-endian unsigned integer:
//
//   [length][header: a JSON object, UTF-8]  [length][secret: raw bytes]
//
// The header says what is asked ({"v":1,"op":"vault.unlock"}) and never holds
// a secret. The secret part carries passphrases (empty when there are none)
// and is read straight into locked memory (SecretBuffer), never parsed as
// JSON or copied into a string. Limits: header ≤ 16 KiB, secret ≤ 4 KiB;
// more is a protocol error and the connection is closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace tazpod::session {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
inline constexpr std::uint32_t kMaxSecretBytes = 4 * 1024;
// One passphrase: the most the vault helper takes (vault/passphrase_limits.h;
// init/wiring.cc checks that the two agree);
// the prompts stop there, so a longer one is refused as it is typed.
inline constexpr std::uint32_t kMaxPassphraseBytes = 1024;
inline constexpr char kDefaultSocketPath[] = "/run/tazpod/control.sock";
// Root's own control socket, beside the shared one: `socket_path` + ".root",
// 0600 root:root, so that only root can connect. The workstation user may
// fill the shared socket's listen backlog faster than PID 1 drains it (a
// connect storm); root's `tazpod health` and `tazpod vault lock` must
// still get in, and a backlog of root's own cannot be filled by the user.
inline constexpr char kRootSocketSuffix[] = ".root";
std::string RootSocketPath(const std::string& socket_path);

void EncodeLength(std::uint32_t length, unsigned char out[4]);
std::uint32_t DecodeLength(const unsigned char in[4]);

// A reply as it goes on the wire: [length][JSON][length 0], since replies
// carry no secret. Text from the system in it (a mount point's path, a
// process's name) need not be UTF-8: such bytes become U+FFFD, where
// throwing would leave the client without a reply.
std::string FrameReply(const nlohmann::json& reply);

// The server's bounds on a request's two lengths, checked before anything
// is read: nullptr when `length` is allowed, else the reason for the reply.
const char* HeaderLengthError(std::uint32_t length);
const char* SecretLengthError(std::uint32_t length);

// A request header that passed ParseRequestHeader.
struct RequestHeader {
  std::string op;       // not empty
  nlohmann::json json;  // the whole object, for the op's own fields
};

// Checks a request header: a JSON object with "v" == 1 and a non-empty
// string "op". Returns it, or nullopt and sets *error. Never throws: the
// header comes from any local client.
std::optional<RequestHeader> ParseRequestHeader(std::string_view header, std::string* error);

// An op's optional boolean field ("create", "force"): false when absent.
// nullopt, and *error set, when present but not a boolean, so a handler
// answers "invalid" rather than throwing from a JSON type check.
std::optional<bool> RequestFlag(const nlohmann::json& header, const char* key, std::string* error);

}  // namespace tazpod::session
