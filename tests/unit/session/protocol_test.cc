#include "session/protocol.h"

#include <catch2/catch_test_macros.hpp>
#include <string>

using namespace tazpod::session;

TEST_CASE("lengths are 4-byte big-endian and bounded before anything is read") {
  unsigned char b[4];
  EncodeLength(0x01020304, b);
  CHECK((b[0] == 1 && b[1] == 2 && b[2] == 3 && b[3] == 4));
  CHECK(DecodeLength(b) == 0x01020304u);
  CHECK(HeaderLengthError(0) != nullptr);
  CHECK(HeaderLengthError(1) == nullptr);
  CHECK(HeaderLengthError(kMaxHeaderBytes) == nullptr);
  CHECK(HeaderLengthError(kMaxHeaderBytes + 1) != nullptr);
  CHECK(SecretLengthError(0) == nullptr);
  CHECK(SecretLengthError(kMaxSecretBytes) == nullptr);
  CHECK(SecretLengthError(kMaxSecretBytes + 1) != nullptr);
}

TEST_CASE("a reply is framed as its length, its JSON and an empty secret, and is sent whatever its bytes") {
  const std::string framed = FrameReply({{"v", 1}, {"ok", true}});
  const std::string text = R"({"ok":true,"v":1})";  // keys sorted, as nlohmann::json keeps them
  REQUIRE(framed.size() == 4 + text.size() + 4);
  CHECK(DecodeLength(reinterpret_cast<const unsigned char*>(framed.data())) == text.size());
  CHECK(framed.substr(4, text.size()) == text);
  CHECK(framed.substr(4 + text.size()) == std::string(4, '\0'));

  // A mount point's name that is not UTF-8: the reply still goes out.
  const std::string odd = FrameReply({{"error", std::string("/home/dev/\xff")}});
  CHECK(odd.find("/home/dev/\xef\xbf\xbd") != std::string::npos);
  CHECK(DecodeLength(reinterpret_cast<const unsigned char*>(odd.data())) == odd.size() - 8);
}

TEST_CASE("a request header is an object with v 1 and an op") {
  std::string error;
  auto ok = ParseRequestHeader(R"({"v":1,"op":"gate.login","create":true})", &error);
  REQUIRE(ok);
  CHECK(ok->op == "gate.login");
  CHECK(ok->json["create"] == true);

  for (const char* bad : {"", "[]", "{", R"({"op":"x"})", R"({"v":2,"op":"x"})", R"({"v":1.0,"op":"x"})",
                          R"({"v":"1","op":"x"})", R"({"v":1})", R"({"v":1,"op":""})", R"({"v":1,"op":7})",
                          // 2^32 + 1: once truncated to an int, it read as version 1
                          R"({"v":4294967297,"op":"x"})"}) {
    error.clear();
    CHECK_FALSE(ParseRequestHeader(bad, &error));
    CHECK_FALSE(error.empty());
  }
}

TEST_CASE("an op's flag is false when absent, refused when not a boolean") {
  std::string error;
  CHECK(RequestFlag(nlohmann::json::parse(R"({"force":true})"), "force", &error) == true);
  CHECK(RequestFlag(nlohmann::json::parse(R"({"force":false})"), "force", &error) == false);
  CHECK(RequestFlag(nlohmann::json::parse(R"({})"), "force", &error) == false);
  CHECK(error.empty());
  for (const char* bad : {R"({"force":"yes"})", R"({"force":1})", R"({"force":null})", R"({"force":[]})"}) {
    error.clear();
    CHECK_FALSE(RequestFlag(nlohmann::json::parse(bad), "force", &error).has_value());
    CHECK(error.find("force") != std::string::npos);
  }
}
