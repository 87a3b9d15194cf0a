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
#include <optional>
#include <string>

namespace tazpod::session {

inline constexpr int kProtocolVersion = 1;
inline constexpr std::uint32_t kMaxHeaderBytes = 16 * 1024;
inline constexpr std::uint32_t kMaxSecretBytes = 4 * 1024;
inline constexpr char kDefaultSocketPath[] = "/run/tazpod/control.sock";

void EncodeLength(std::uint32_t length, unsigned char out[4]);
std::uint32_t DecodeLength(const unsigned char in[4]);

// Checks a request header: a JSON object with "v" == 1 and a string "op".
// Returns the op, or nullopt and sets *error.
std::optional<std::string> ParseRequestOp(const std::string& header, std::string* error);

}  // namespace tazpod::session
