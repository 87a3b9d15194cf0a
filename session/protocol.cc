#include "session/protocol.h"

#include <nlohmann/json.hpp>

namespace tazpod::session {

void EncodeLength(std::uint32_t length, unsigned char out[4]) {
  out[0] = static_cast<unsigned char>(length >> 24);
  out[1] = static_cast<unsigned char>(length >> 16);
  out[2] = static_cast<unsigned char>(length >> 8);
  out[3] = static_cast<unsigned char>(length);
}

std::uint32_t DecodeLength(const unsigned char in[4]) {
  return (std::uint32_t{in[0]} << 24) | (std::uint32_t{in[1]} << 16) | (std::uint32_t{in[2]} << 8) |
         std::uint32_t{in[3]};
}

std::string FrameReply(const nlohmann::json& reply) {
  const std::string text = reply.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string framed(4 + text.size() + 4, '\0');  // the last length: 0
  EncodeLength(static_cast<std::uint32_t>(text.size()), reinterpret_cast<unsigned char*>(framed.data()));
  framed.replace(4, text.size(), text);
  return framed;
}

std::string RootSocketPath(const std::string& socket_path) { return socket_path + kRootSocketSuffix; }

const char* HeaderLengthError(std::uint32_t length) {
  return length == 0 || length > kMaxHeaderBytes ? "header size out of bounds" : nullptr;
}

const char* SecretLengthError(std::uint32_t length) {
  return length > kMaxSecretBytes ? "secret size out of bounds" : nullptr;
}

std::optional<RequestHeader> ParseRequestHeader(std::string_view header, std::string* error) {
  nlohmann::json request = nlohmann::json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded() || !request.is_object()) {
    *error = "the header is not a JSON object";
    return std::nullopt;
  }
  auto v = request.find("v");
  if (v == request.end() || !v->is_number_integer() || *v != kProtocolVersion) {
    *error = "unsupported protocol version (this supervisor speaks v" + std::to_string(kProtocolVersion) + ")";
    return std::nullopt;
  }
  auto op = request.find("op");
  if (op == request.end() || !op->is_string() || op->get_ref<const std::string&>().empty()) {
    *error = "the request has no \"op\"";
    return std::nullopt;
  }
  std::string name = op->get<std::string>();
  return RequestHeader{std::move(name), std::move(request)};
}

std::optional<bool> RequestFlag(const nlohmann::json& header, const char* key, std::string* error) {
  auto field = header.find(key);
  if (field == header.end()) return false;
  if (!field->is_boolean()) {
    *error = std::string("\"") + key + "\" must be true or false";
    return std::nullopt;
  }
  return field->get<bool>();
}

}  // namespace tazpod::session
