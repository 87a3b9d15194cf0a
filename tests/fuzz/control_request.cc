// Fuzz target: a control-socket request, as any local client may send it
// (session/protocol.h). Proves that the framing checks, the header parser and
// the ops' flag fields take any bytes without crashing, throwing, reading out
// of bounds or leaking, and that what they accept is what the server relies
// on: a header within its bounds, an object with v == 1 and a non-empty op.
//
// The input is read the way ControlServer's connection reads a socket:
// [u32 length][header], parsed (a refused header ends the request), then
// [u32 length][secret], each length checked before its part is read; a
// short input is a client that went away. (Whose secret an op takes is
// the server's routing, not parsing: host tests cover it.)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/secret_buffer.h"
#include "session/protocol.h"

using namespace tazpod::session;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  if (in.size() < 4) return 0;
  const std::uint32_t header_length = DecodeLength(data);
  in.remove_prefix(4);
  if (HeaderLengthError(header_length)) return 0;
  if (header_length == 0 || header_length > kMaxHeaderBytes) std::abort();  // refused above
  if (in.size() < header_length) return 0;
  const std::string header(in.substr(0, header_length));
  in.remove_prefix(header_length);

  std::string error;
  std::optional<RequestHeader> request = ParseRequestHeader(header, &error);
  if (!request) {
    if (error.empty()) std::abort();  // a refusal always says why
    return 0;
  }
  if (request->op.empty() || !request->json.is_object() || request->json["v"] != kProtocolVersion) std::abort();
  // What the gate's handlers read from a header.
  for (const char* flag : {"create", "force"}) {
    std::string flag_error;
    if (!RequestFlag(request->json, flag, &flag_error) && flag_error.empty()) std::abort();
  }
  if (in.size() >= 4) {
    const std::uint32_t secret_length = DecodeLength(reinterpret_cast<const unsigned char*>(in.data()));
    in.remove_prefix(4);
    if (SecretLengthError(secret_length)) return 0;
    if (secret_length > 0 && in.size() >= secret_length) {
      tazpod::SecretBuffer secret(kMaxSecretBytes);
      char* into = secret.Extend(secret_length);
      if (!into) std::abort();  // within kMaxSecretBytes, it must fit
      in.copy(into, secret_length);
    }
  }

  // The round trip a reply takes: lengths encode and decode to themselves.
  unsigned char length[4];
  EncodeLength(header_length, length);
  if (DecodeLength(length) != header_length) std::abort();
  return 0;
}
