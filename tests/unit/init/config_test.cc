#include "init/config.h"

#include <catch2/catch_test_macros.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

using namespace std::chrono_literals;
using tazpod::init::ApplyConfigFile;
using tazpod::init::Config;
using tazpod::init::LogFormat;
using tazpod::init::LogLevel;
using tazpod::init::ParseDuration;
using tazpod::init::ParseRewrite;

namespace {

// A config file in a fresh temporary path, removed at the end of the test.
class TempConfig {
 public:
  explicit TempConfig(const std::string& text) {
    char tmpl[] = "/tmp/tazpod-config-test-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    close(fd);
    path_ = tmpl;
    std::ofstream(path_) << text;
  }
  ~TempConfig() { std::remove(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace

TEST_CASE("config: durations") {
  CHECK(ParseDuration("8s") == 8000ms);
  CHECK(ParseDuration("500ms") == 500ms);
  CHECK(ParseDuration("2m") == 120000ms);
  CHECK(ParseDuration("0") == 0ms);
  CHECK_FALSE(ParseDuration("8").has_value());  // a bare number needs a unit
  CHECK_FALSE(ParseDuration("-1s").has_value());
  CHECK_FALSE(ParseDuration("s").has_value());
  CHECK_FALSE(ParseDuration("1h").has_value());
  CHECK_FALSE(ParseDuration("99999m").has_value());  // more than a day is a typo
}

TEST_CASE("config: signal rewrites") {
  CHECK(ParseRewrite("15:3") == std::make_pair(SIGTERM, SIGQUIT));
  CHECK(ParseRewrite("SIGTERM:SIGQUIT") == std::make_pair(SIGTERM, SIGQUIT));
  CHECK(ParseRewrite("HUP:0") == std::make_pair(SIGHUP, 0));
  CHECK_FALSE(ParseRewrite("15").has_value());
  CHECK_FALSE(ParseRewrite("SIGNOPE:1").has_value());
}

TEST_CASE("config: a full [init] section is applied") {
  TempConfig file(R"(
[init]
grace_period = "3s"
forward_delay = "250ms"
forward_to_process_group = true
warn_on_foreign_reap = true
parent_death_signal = "SIGTERM"
log_format = "json"
log_level = "debug"
expect_exit = [143, 130]
signal_rewrite = { SIGTERM = "SIGQUIT", SIGHUP = 0 }

[vault]
[session]
[health]
)");
  Config config;
  auto err = ApplyConfigFile(file.path(), true, config);
  REQUIRE_FALSE(err.has_value());
  CHECK(config.init.grace_period == 3000ms);
  CHECK(config.init.forward_delay == 250ms);
  CHECK(config.init.forward_to_process_group);
  CHECK(config.init.warn_on_foreign_reap);
  CHECK(config.init.parent_death_signal == SIGTERM);
  CHECK(config.init.log_format == LogFormat::kJson);
  CHECK(config.init.log_level == LogLevel::kDebug);
  CHECK(config.init.expect_exit == std::set<int>{130, 143});
  CHECK(config.init.signal_rewrite.at(SIGTERM) == SIGQUIT);
  CHECK(config.init.signal_rewrite.at(SIGHUP) == 0);
}

TEST_CASE("config: defaults when the default file is absent") {
  Config config;
  CHECK_FALSE(ApplyConfigFile("/nonexistent/tazpod.toml", false, config).has_value());
  CHECK(config.init.grace_period == 8000ms);
  CHECK(config.init.log_format == LogFormat::kText);
}

TEST_CASE("config: an explicit file that is missing is an error") {
  Config config;
  auto err = ApplyConfigFile("/nonexistent/tazpod.toml", true, config);
  REQUIRE(err.has_value());
  CHECK(err->find("/nonexistent/tazpod.toml") != std::string::npos);
}

TEST_CASE("config: errors name the file, the line and the key") {
  struct Case {
    const char* text;
    const char* line;  // ":LINE:" expected in the message
    const char* key;
  };
  const Case cases[] = {
      {"[init]\ngrace = \"1s\"\n", ":2:", "init.grace"},
      {"[init]\n\ngrace_period = \"soon\"\n", ":3:", "init.grace_period"},
      {"[init]\nlog_format = \"xml\"\n", ":2:", "init.log_format"},
      {"[init]\nforward_to_process_group = \"yes\"\n", ":2:", "init.forward_to_process_group"},
      {"[init]\nexpect_exit = [300]\n", ":2:", "init.expect_exit"},
      {"[init]\nsignal_rewrite = { SIGBOGUS = 1 }\n", ":2:", "init.signal_rewrite.SIGBOGUS"},
      {"[vault]\nsize = \"1G\"\n", ":2:", "vault.size"},
      {"[nonsense]\n", ":1:", "nonsense"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    TempConfig file(c.text);
    Config config;
    auto err = ApplyConfigFile(file.path(), true, config);
    REQUIRE(err.has_value());
    CHECK(err->find(file.path() + c.line) == 0);
    CHECK(err->find(c.key) != std::string::npos);
  }
}

TEST_CASE("config: malformed TOML names the line") {
  TempConfig file("[init]\ngrace_period = \n");
  Config config;
  auto err = ApplyConfigFile(file.path(), true, config);
  REQUIRE(err.has_value());
  CHECK(err->find(file.path() + ":2:") == 0);
}
