#include "init/config.h"

#include <catch2/catch_test_macros.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

using namespace std::chrono_literals;
using tazpod::init::ApplyConfigFile;
using tazpod::init::Config;
using tazpod::LogFormat;
using tazpod::LogLevel;
using tazpod::init::ParseDuration;
using tazpod::init::ParseRewrite;
using tazpod::init::RewriteSourceError;

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
  ~TempConfig() { (void)std::remove(path_.c_str()); }  // a leftover in /tmp fails no test
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// What ApplyConfigFile says of a file holding `text`: its error, or "" when
// it takes the file.
std::string ErrorFor(const std::string& text) {
  TempConfig file(text);
  tazpod::init::Config config;
  return ApplyConfigFile(file.path(), true, config).value_or("");
}

}  // namespace

TEST_CASE("config: sizes") {
  using tazpod::init::ParseSize;
  CHECK(ParseSize("256M") == 256ULL << 20);
  CHECK(ParseSize("1G") == 1ULL << 30);
  CHECK(ParseSize("512K") == 512ULL << 10);
  CHECK(ParseSize("4096") == 4096ULL);
  CHECK_FALSE(ParseSize("1T").has_value());
  CHECK_FALSE(ParseSize("M").has_value());
  CHECK_FALSE(ParseSize("-1M").has_value());
}

TEST_CASE("config: [vault] and [session] are applied") {
  TempConfig file(R"(
[vault]
mode = "persistent"
image = "/volume/vault.img"
image_size = "512M"
mapping_name = "tazpod-abc123"
pbkdf_iterations = 4
pbkdf_memory_kib = 1024
holder_grace = "1s"
unlock_hooks = ["/opt/hooks/fetch", "/opt/hooks/two"]
lock_hooks = ["/opt/hooks/push"]
hook_timeout = "30s"
private_mount_namespace = false

[session]
user = "alice"
socket = "/tmp/t.sock"
hangup_grace = "10s"
)");
  Config config;
  REQUIRE_FALSE(ApplyConfigFile(file.path(), true, config).has_value());
  CHECK_FALSE(config.vault.ram_mode);
  CHECK(config.vault.image == "/volume/vault.img");
  CHECK(config.vault.image_size == 512ULL << 20);
  CHECK(config.vault.mapping_name == "tazpod-abc123");
  CHECK(config.vault.pbkdf_iterations == 4);
  CHECK(config.vault.holder_grace == 1000ms);
  CHECK(config.vault.unlock_hooks == std::vector<std::string>{"/opt/hooks/fetch", "/opt/hooks/two"});
  CHECK(config.vault.lock_hooks == std::vector<std::string>{"/opt/hooks/push"});
  CHECK(config.vault.hook_timeout == 30000ms);
  CHECK_FALSE(config.vault.private_mount_namespace);
  CHECK(config.session.user == "alice");
  CHECK(config.session.socket == "/tmp/t.sock");
  CHECK(config.session.hangup_grace == 10000ms);
}

TEST_CASE("config: [health] is applied") {
  TempConfig file(R"(
[health]
http = false
listen = "0.0.0.0:9191"
max_connections = 4
read_timeout = "2s"
max_vault_operation = "1m"
audit_log = "/data/audit.log"
)");
  Config config;
  REQUIRE_FALSE(ApplyConfigFile(file.path(), true, config).has_value());
  CHECK_FALSE(config.health.http);
  CHECK(config.health.address == "0.0.0.0");
  CHECK(config.health.port == 9191);
  CHECK(config.health.max_connections == 4);
  CHECK(config.health.read_timeout == 2000ms);
  CHECK(config.health.max_vault_operation == 60000ms);
  CHECK(config.health.audit_log == "/data/audit.log");
}

TEST_CASE("config: health.listen takes IPv6 with or without brackets") {
  for (const char* listen : {"[::1]:9191", "::1:9191"}) {
    INFO(listen);
    TempConfig file(std::string("[health]\nlisten = \"") + listen + "\"\n");
    Config config;
    REQUIRE_FALSE(ApplyConfigFile(file.path(), true, config).has_value());
    CHECK(config.health.address == "::1");
    CHECK(config.health.port == 9191);
  }
}

TEST_CASE("config: defaults of the vault's namespace and of health") {
  Config config;
  CHECK(config.vault.private_mount_namespace);
  CHECK(config.health.http);
  CHECK(config.health.address == "127.0.0.1");
  CHECK(config.health.port == 9090);
  CHECK(config.health.audit_log.empty());
}

TEST_CASE("config: persistent mode without an image is an error") {
  TempConfig file("[vault]\nmode = \"persistent\"\n");
  Config config;
  auto err = ApplyConfigFile(file.path(), true, config);
  REQUIRE(err.has_value());
  CHECK(err->find("vault.image") != std::string::npos);
}

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
  CHECK(ParseDuration("1440m") == 86400000ms);  // a day is still allowed
  CHECK_FALSE(ParseDuration("1441m").has_value());
  // Counts whose product in milliseconds overflows are refused, not wrapped
  // (tests/fuzz/regressions/config_file/ keeps them for the fuzz target too).
  CHECK_FALSE(ParseDuration("307445734561826m").has_value());
  CHECK_FALSE(ParseDuration("9223372036854775807s").has_value());
}

TEST_CASE("config: signal rewrites") {
  CHECK(ParseRewrite("15:3") == std::make_pair(SIGTERM, SIGQUIT));
  CHECK(ParseRewrite("SIGTERM:SIGQUIT") == std::make_pair(SIGTERM, SIGQUIT));
  CHECK(ParseRewrite("HUP:0") == std::make_pair(SIGHUP, 0));
  CHECK_FALSE(ParseRewrite("15").has_value());
  CHECK_FALSE(ParseRewrite("SIGNOPE:1").has_value());
}

TEST_CASE("config: rewrites of signals init never forwards are refused") {
  CHECK(RewriteSourceError(SIGTERM) == nullptr);
  CHECK(RewriteSourceError(SIGHUP) == nullptr);
  CHECK(RewriteSourceError(SIGRTMIN) == nullptr);
  for (int never : {SIGCHLD, SIGKILL, SIGSTOP, SIGSEGV, SIGABRT}) {
    CAPTURE(never);
    CHECK(RewriteSourceError(never) != nullptr);
  }
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
  // 108 bytes: one more than sun_path holds with its NUL.
  const std::string long_socket = "[session]\nsocket = \"/" + std::string(107, 's') + "\"\n";
  // 103 bytes: fits sun_path, but root's socket beside it (".root") would not.
  const std::string long_root_socket = "[session]\nsocket = \"/" + std::string(102, 's') + "\"\n";
  const Case cases[] = {
      {"[init]\ngrace = \"1s\"\n", ":2:", "init.grace"},
      {"[init]\n\ngrace_period = \"soon\"\n", ":3:", "init.grace_period"},
      {"[init]\nlog_format = \"xml\"\n", ":2:", "init.log_format"},
      {"[init]\nforward_to_process_group = \"yes\"\n", ":2:", "init.forward_to_process_group"},
      {"[init]\nexpect_exit = [300]\n", ":2:", "init.expect_exit"},
      {"[init]\nexpect_exit = [1.0]\n", ":2:", "init.expect_exit"},
      {"[init]\nexpect_exit = [2e55]\n", ":2:", "init.expect_exit"},  // no float-to-integer overflow on the way
      {"[init]\nforward_to_process_group = 1\n", ":2:", "init.forward_to_process_group"},
      {"[init]\nsignal_rewrite = { SIGBOGUS = 1 }\n", ":2:", "init.signal_rewrite.SIGBOGUS"},
      {"[init]\nsignal_rewrite = { SIGCHLD = \"SIGTERM\" }\n", ":2:", "init.signal_rewrite.SIGCHLD"},
      {"[init]\nsignal_rewrite = { SIGKILL = 0 }\n", ":2:", "init.signal_rewrite.SIGKILL"},
      {"[vault]\nsize = \"1G\"\n", ":2:", "vault.size"},
      {"[vault]\nenclave_size = \"lots\"\n", ":2:", "vault.enclave_size"},
      {"[vault]\nmode = \"disk\"\n", ":2:", "vault.mode"},
      {"[vault]\nmapping_name = \"a b\"\n", ":2:", "vault.mapping_name"},
      {"[session]\nsocket = \"relative\"\n", ":2:", "session.socket"},
      {"[vault]\nunlock_hooks = [\"fetch.sh\"]\n", ":2:", "vault.unlock_hooks"},
      {"[nonsense]\n", ":1:", "nonsense"},
      {"[health]\nlisten = \"9090\"\n", ":2:", "health.listen"},
      {"[health]\nlisten = \"127.0.0.1:99999\"\n", ":2:", "health.listen"},
      {"[health]\nlisten = \"127.0.0.1:0\"\n", ":2:", "health.listen"},  // a port the probes could not know
      {"[health]\nlisten = \"localhost:9090\"\n", ":2:", "health.listen"},
      {"[health]\nread_timeout = \"0\"\n", ":2:", "health.read_timeout"},
      {"[health]\nmax_vault_operation = \"0s\"\n", ":2:", "health.max_vault_operation"},
      {"[vault]\noperation_timeout = 0\n", ":2:", "vault.operation_timeout"},
      {"[vault]\nenclave_size = 0\n", ":2:", "vault.enclave_size"},
      {"[vault]\nenclave_dir = \"\"\n", ":2:", "vault.enclave_dir"},
      {"[vault]\nhelper = \"\"\n", ":2:", "vault.helper"},
      {"[session]\nsocket = \"\"\n", ":2:", "session.socket"},
      {long_socket.c_str(), ":2:", "session.socket"},
      {long_root_socket.c_str(), ":2:", "session.socket"},
      // A NUL would cut the path short: another socket, which Listen()
      // would unlink.
      {"[session]\nsocket = \"/run/a\\u0000b\"\n", ":2:", "session.socket"},
      {"[health]\nlisten = \"10.0.0.300:9090\"\n", ":2:", "health.listen"},
      {"[health]\nlisten = \"[127.0.0.1:9090\"\n", ":2:", "health.listen"},
      {"[health]\naudit_log = \"relative.log\"\n", ":2:", "health.audit_log"},
      {"[vault]\nprivate_mount_namespace = \"yes\"\n", ":2:", "vault.private_mount_namespace"},
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

TEST_CASE("config: the hooks of one operation must end within vault.operation_timeout") {
  for (const char* text : {"[vault]\nunlock_hooks = [\"/a\", \"/b\"]\n",  // 2 x 60 s, the default 120 s
                           "[vault]\nlock_hooks = [\"/a\"]\nhook_timeout = \"2m\"\n",
                           "[vault]\noperation_timeout = \"30s\"\nunlock_hooks = [\"/a\"]\n"}) {
    INFO(text);
    const std::string err = ErrorFor(text);
    CHECK(err.find("vault.hook_timeout") != std::string::npos);
    CHECK(err.find("vault.operation_timeout") != std::string::npos);
  }
  for (const char* text : {"[vault]\nunlock_hooks = [\"/a\"]\nlock_hooks = [\"/b\"]\n",
                           "[vault]\nunlock_hooks = [\"/a\", \"/b\"]\nhook_timeout = \"30s\"\n",
                           "[vault]\nhook_timeout = \"10m\"\n"}) {  // no hooks: nothing to outlast
    INFO(text);
    CHECK(ErrorFor(text).empty());
  }
}

TEST_CASE("config: the hooks must leave the helper time for its own work") {
  // 60 s of hook, 2 s of mkfs and mount, and two key derivations of
  // pbkdf_time (2 s) when libcryptsetup benchmarks: 66 s.
  const std::string err = ErrorFor("[vault]\noperation_timeout = \"66s\"\nunlock_hooks = [\"/a\"]\n");
  CHECK(err.find("vault.operation_timeout: 66000 ms may be too short for an unlock: 1 hook(s) of vault.hook_timeout "
                 "(60000 ms) each, and 6000 ms of its own work") != std::string::npos);
  CHECK(ErrorFor("[vault]\noperation_timeout = \"66001ms\"\nunlock_hooks = [\"/a\"]\n").empty());
  // A longer benchmark target needs more.
  CHECK_FALSE(ErrorFor("[vault]\noperation_timeout = \"70s\"\npbkdf_time = \"5s\"\nunlock_hooks = [\"/a\"]\n")
                  .empty());
  // Forced iterations: libcryptsetup does not benchmark, pbkdf_time is not used.
  CHECK(ErrorFor("[vault]\noperation_timeout = \"63s\"\npbkdf_iterations = 4\nunlock_hooks = [\"/a\"]\n").empty());
  CHECK_FALSE(ErrorFor("[vault]\noperation_timeout = \"62s\"\npbkdf_iterations = 4\nunlock_hooks = [\"/a\"]\n")
                  .empty());
  // No hooks: the work alone must fit too.
  CHECK(ErrorFor("[vault]\noperation_timeout = \"6s\"\n").find("too short for an unlock: 0 hook(s)") !=
        std::string::npos);
  CHECK(ErrorFor("[vault]\noperation_timeout = \"6001ms\"\nholder_grace = \"0s\"\n").empty());
}

TEST_CASE("config: a lock's hooks and holder rounds must end within vault.operation_timeout") {
  // Three rounds of holder_grace (3 s), each with 2 s for the kernel: 15 s.
  CHECK(ErrorFor("[vault]\noperation_timeout = \"15s\"\n").find("vault.operation_timeout: 15000 ms may be too short "
                                                                  "for a lock: 0 hook(s)") != std::string::npos);
  CHECK(ErrorFor("[vault]\noperation_timeout = \"15001ms\"\n").empty());
  CHECK(ErrorFor("[vault]\nholder_grace = \"38s\"\n").find("too short for a lock") != std::string::npos);
  CHECK(ErrorFor("[vault]\nholder_grace = \"37s\"\n").empty());
  // 15 s, and a lock hook of 60 s.
  CHECK(ErrorFor("[vault]\noperation_timeout = \"75s\"\nlock_hooks = [\"/a\"]\n").find("too short for a lock: 1 hook(s)") !=
        std::string::npos);
  CHECK(ErrorFor("[vault]\noperation_timeout = \"76s\"\nlock_hooks = [\"/a\"]\n").empty());
}

TEST_CASE("config: libcryptsetup's PBKDF limits are checked at start, whatever the order of the keys") {
  const char* cases[][2] = {
      {"[vault]\npbkdf_iterations = 3\n", "vault.pbkdf_iterations"},
      {"[vault]\npbkdf_iterations = 2\npbkdf = \"argon2i\"\n", "vault.pbkdf_iterations"},
      {"[vault]\npbkdf_memory_kib = 0\n", "vault.pbkdf_memory_kib"},
      {"[vault]\npbkdf_parallel = 0\n", "vault.pbkdf_parallel"},
      {"[vault]\npbkdf_parallel = 5\n", "vault.pbkdf_parallel"},
      {"[vault]\npbkdf_memory_kib = 4194305\n", "vault.pbkdf_memory_kib"},
      {"[vault]\npbkdf_iterations = 4\npbkdf_memory_kib = 31\n", "vault.pbkdf_memory_kib"},
      {"[vault]\npbkdf = \"pbkdf2\"\npbkdf_iterations = 999\n", "vault.pbkdf_iterations"},
  };
  for (const auto& [text, key] : cases) {
    INFO(text);
    CHECK(ErrorFor(text).find(key) != std::string::npos);
  }
  // pbkdf2 has no passes or memory: its iterations are a count of its own.
  TempConfig pbkdf2("[vault]\npbkdf = \"pbkdf2\"\npbkdf_iterations = 1000\npbkdf_parallel = 0\n");
  Config config;
  CHECK_FALSE(ApplyConfigFile(pbkdf2.path(), true, config).has_value());
  // 0 passes: benchmark for pbkdf_time; 4 is the least argon2 takes.
  TempConfig argon2("[vault]\npbkdf_iterations = 4\n");
  Config fresh;
  CHECK_FALSE(ApplyConfigFile(argon2.path(), true, fresh).has_value());
}

TEST_CASE("config: the keyslot area holds two keyslots, so a passphrase change never overwrites the only one") {
  for (const char* text : {"[vault]\nluks2_keyslots_size = \"252K\"\n",     // one keyslot
                           "[vault]\nluks2_keyslots_size = 520000\n",       // not whole 4 KiB blocks
                           "[vault]\nluks2_keyslots_size = 516095\n",
                           "[vault]\nluks2_keyslots_size = \"129M\"\n"}) {  // above libcryptsetup's 128 MiB
    INFO(text);
    CHECK(ErrorFor(text).find("vault.luks2_keyslots_size") != std::string::npos);
  }
  for (const char* text : {"[vault]\nluks2_keyslots_size = 0\n", "[vault]\nluks2_keyslots_size = \"504K\"\n",
                           "[vault]\nluks2_keyslots_size = \"512K\"\n", "[vault]\nluks2_keyslots_size = \"128M\"\n"}) {
    INFO(text);
    CHECK(ErrorFor(text).empty());
  }
}

TEST_CASE("config: health.max_connections is from 1 to 1024 (each is one of PID 1's descriptors)") {
  for (const char* text : {"[health]\nmax_connections = 0\n", "[health]\nmax_connections = 1025\n",
                           "[health]\nmax_connections = 2147483648\n", "[health]\nmax_connections = 4294967295\n"}) {
    INFO(text);
    CHECK(ErrorFor(text).find("health.max_connections") != std::string::npos);
  }
  TempConfig most("[health]\nmax_connections = 1024\n");
  Config config;
  CHECK_FALSE(ApplyConfigFile(most.path(), true, config).has_value());
  CHECK(config.health.max_connections == 1024U);
}

TEST_CASE("config: pbkdf_time 0 is refused when it is the benchmark's target") {
  CHECK(ErrorFor("[vault]\npbkdf_time = \"0\"\n").find("vault.pbkdf_time") != std::string::npos);
  CHECK(ErrorFor("[vault]\npbkdf = \"pbkdf2\"\npbkdf_time = \"0ms\"\n").find("vault.pbkdf_time") !=
        std::string::npos);
  CHECK(ErrorFor("[vault]\npbkdf_time = \"0\"\npbkdf_iterations = 4\n").empty());  // no benchmark: unused
}

TEST_CASE("config: a file that is no regular file, or over 1 MiB, is refused without being read") {
  Config config;
  auto err = ApplyConfigFile("/dev/zero", true, config);  // read whole, it would fill PID 1's memory
  REQUIRE(err.has_value());
  CHECK(*err == "/dev/zero:0:0: not a regular file");
  char dir[] = "/tmp/tazpod-config-test-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string fifo = std::string(dir) + "/fifo";  // read, it would block the start for good
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  err = ApplyConfigFile(fifo, true, config);
  (void)std::remove(fifo.c_str());
  (void)rmdir(dir);
  REQUIRE(err.has_value());
  CHECK(err->find(": not a regular file") != std::string::npos);
  TempConfig large(std::string((1 << 20) + 1, '#'));
  err = ApplyConfigFile(large.path(), true, config);
  REQUIRE(err.has_value());
  CHECK(*err == large.path() + ":0:0: larger than 1 MiB");
}

TEST_CASE("config: malformed TOML names the line") {
  TempConfig file("[init]\ngrace_period = \n");
  Config config;
  auto err = ApplyConfigFile(file.path(), true, config);
  REQUIRE(err.has_value());
  CHECK(err->find(file.path() + ":2:") == 0);
}

// toml++ 3.3.0 reaches __builtin_unreachable() on some non-ASCII code points
// where it checks for whitespace, and its look-ahead runs past strings and
// comments in invalid text: any non-ASCII byte is refused before it gets there.
TEST_CASE("non-ASCII text anywhere is refused with its line and column") {
  // "\357\273\273" is the BOM in octal: a hex escape would take the "a" after it.
  for (const char* text : {"[he\357\273\273alth]\n", "x = 1\n\xc2\xa7 = 2\n", "[init]\ngrace_period = \xc3\xa9\n",
                           "s = \"\"\"\\\n\xc2\xa7\"\"\"\n", "# \xc2\xa7 comment\n",
                           "[vault]\nmountpoint = \"/home/d\xc3\xa9v/secrets\"\n",
                           "x = 1'''\xef\xbb\xbb'''\n"}) {
    tazpod::init::Config config;
    auto error = tazpod::init::ApplyConfigText(text, "/etc/t.toml", config);
    REQUIRE(error);
    CHECK(error->find("non-ASCII") != std::string::npos);
    CHECK(error->starts_with("/etc/t.toml:"));
  }
  tazpod::init::Config config;
  auto error = tazpod::init::ApplyConfigText("[init]\n\ngrace_period = \"3s\xc2\xa7\"\n", "/etc/t.toml", config);
  REQUIRE(error);
  CHECK(error->starts_with("/etc/t.toml:3:19: non-ASCII"));
}

TEST_CASE("config: session.socket may be as long as leaves room for root's socket beside it") {
  // 102 bytes, and 107 with ".root": what sun_path holds with its NUL.
  const std::string longest = "/" + std::string(101, 's');
  TempConfig config_file("[session]\nsocket = \"" + longest + "\"\n");
  Config config;
  CHECK_FALSE(ApplyConfigFile(config_file.path(), true, config).has_value());
  CHECK(config.session.socket == longest);
  CHECK(ErrorFor("[session]\nsocket = \"" + longest + "s\"\n").find("102 bytes") != std::string::npos);
}
