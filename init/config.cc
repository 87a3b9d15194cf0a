#include "init/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <limits>
#include <toml++/toml.h>

#include <boost/asio/ip/address.hpp>

#include "common/unique_fd.h"
#include "common/unix_address.h"
#include "init/comment_lines.h"
#include "init/signal_names.h"
#include "init/signals.h"
#include "session/protocol.h"
#include "vault/luks_volume.h"

namespace tazpod::init {

namespace {

std::string Where(const std::string& path, const toml::source_region& src) {
  return path + ":" + std::to_string(src.begin.line) + ":" + std::to_string(src.begin.column);
}

// A config error at `node`, naming the key.
std::string KeyError(const std::string& path, const toml::node& node, std::string_view key,
                     std::string_view problem) {
  return Where(path, node.source()) + ": " + std::string(key) + ": " + std::string(problem);
}

std::optional<std::string> ReadBool(const std::string& path, const toml::node& node,
                                    std::string_view key, bool& out) {
  auto v = node.value_exact<bool>();
  if (!v) return KeyError(path, node, key, "expected true or false");
  out = *v;
  return std::nullopt;
}

std::optional<std::string> ReadDuration(const std::string& path, const toml::node& node,
                                        std::string_view key, std::chrono::milliseconds& out) {
  std::optional<std::chrono::milliseconds> d;
  if (node.is_integer()) {
    auto secs = *node.value<std::int64_t>();
    if (secs >= 0 && secs <= 86400) d = std::chrono::seconds(secs);
  } else if (node.is_string()) {
    d = ParseDuration(*node.value<std::string>());
  }
  if (!d) return KeyError(path, node, key, "expected a duration such as \"8s\" or \"500ms\"");
  out = *d;
  return std::nullopt;
}

std::optional<std::string> ReadSignal(const std::string& path, const toml::node& node,
                                      std::string_view key, int& out, bool allow_none) {
  std::optional<int> sig;
  if (node.is_string()) {
    std::string text = *node.value<std::string>();
    if (allow_none && (text.empty() || text == "none")) sig = 0;
    else sig = ParseSignal(text);
  } else if (node.is_integer()) {
    sig = ParseSignal(std::to_string(*node.value<std::int64_t>()));
    if (!sig && allow_none && *node.value<std::int64_t>() == 0) sig = 0;
  }
  if (!sig) return KeyError(path, node, key, "expected a signal name such as \"SIGTERM\"");
  out = *sig;
  return std::nullopt;
}

// A configuration file larger than this is refused: PID 1 reads it whole.
constexpr off_t kMaxConfigBytes = 1 << 20;

// What an unlock's helper needs besides its hooks, at the least: a new
// vault derives its key twice (for the keyslot, then to open it), each
// about pbkdf_time when libcryptsetup benchmarks for it; and then mkfs,
// mount and the rest, which take well under this floor on the machines we
// measured.
constexpr std::chrono::milliseconds kUnlockWorkFloor{2000};

// How long an operation's helper works besides its hooks, and on what, in
// the words of the error that says operation_timeout is too short for it.
struct OwnWork {
  std::chrono::milliseconds time;
  const char* what;
};

OwnWork UnlockOwnWork(const VaultSettings& v) {
  if (v.pbkdf_iterations == 0) return {kUnlockWorkFloor + 2 * v.pbkdf_time, "key derivation at vault.pbkdf_time, mkfs"};
  return {kUnlockWorkFloor, "mkfs, mount"};
}

// A lock's, besides its hooks: up to three rounds of ending holders
// (docs/vault.md), each holder_grace and about this while the kernel lets
// go of what they held.
constexpr std::chrono::milliseconds kLetGoTime{2000};

OwnWork LockOwnWork(const VaultSettings& v) {
  return {3 * (v.holder_grace + kLetGoTime), "three rounds of vault.holder_grace, and the kernel letting go"};
}

// The whole file, read with plain syscalls rather than toml::parse_file():
// its std::ifstream would build the C++ locale in PID 1 before the main
// child starts, for no use (docs/benchmarks.md). nullopt, with *error,
// when it cannot be opened or read, or is no regular file of at most
// kMaxConfigBytes (a FIFO would block the start for good, /dev/zero fill
// PID 1's memory).
std::optional<std::string> ReadWholeFile(const std::string& path, std::string* error) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY));
  struct stat st {};
  if (!fd || fstat(fd.get(), &st) != 0) {
    *error = "File could not be opened for reading";  // toml::parse_file()'s own words
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    *error = "not a regular file";
    return std::nullopt;
  }
  std::string text;
  char buffer[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      *error = "File could not be opened for reading";
      return std::nullopt;
    }
    if (n == 0) return text;
    text.append(buffer, static_cast<size_t>(n));
    if (static_cast<off_t>(text.size()) > kMaxConfigBytes) {
      *error = "larger than " + std::to_string(kMaxConfigBytes >> 20) + " MiB";
      return std::nullopt;
    }
  }
}

// toml++ 3.3.0 (Debian 12's) reaches __builtin_unreachable(), that is
// undefined behaviour, on some non-ASCII code points where it checks for
// whitespace (found by tests/fuzz/config_file.cc; upstream
// marzer/tomlplusplus#190 and #295, fixed after 3.4). Its look-ahead runs
// past strings and comments in invalid text, so no lexical guess of ours
// about where such a code point is harmless holds: a configuration file is
// ASCII only, until Debian has a toml++ without the bug. Returns the offset
// of the first non-ASCII byte, or npos.
size_t FirstNonAscii(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i)
    if (static_cast<unsigned char>(text[i]) >= 0x80) return i;
  return std::string_view::npos;
}

// An unknown key is reported where the key is, not where its value is.
std::string UnknownKey(const std::string& path, const toml::key& k, std::string_view full_key) {
  return Where(path, k.source()) + ": " + std::string(full_key) + ": unknown key";
}

std::optional<std::string> ApplyInitSection(const std::string& path, const toml::table& table,
                                            InitConfig& init) {
  for (auto&& [k, node] : table) {
    const std::string key = "init." + std::string(k.str());
    std::optional<std::string> err;
    if (k == "grace_period") {
      err = ReadDuration(path, node, key, init.grace_period);
    } else if (k == "forward_delay") {
      err = ReadDuration(path, node, key, init.forward_delay);
    } else if (k == "forward_to_process_group") {
      err = ReadBool(path, node, key, init.forward_to_process_group);
    } else if (k == "warn_on_foreign_reap") {
      err = ReadBool(path, node, key, init.warn_on_foreign_reap);
    } else if (k == "pause") {
      err = ReadBool(path, node, key, init.pause);
    } else if (k == "parent_death_signal") {
      err = ReadSignal(path, node, key, init.parent_death_signal, /*allow_none=*/true);
    } else if (k == "log_format") {
      auto f = node.is_string() ? ParseLogFormat(*node.value<std::string>()) : std::nullopt;
      if (!f) err = KeyError(path, node, key, "expected \"text\" or \"json\"");
      else init.log_format = *f;
    } else if (k == "log_level") {
      auto l = node.is_string() ? ParseLogLevel(*node.value<std::string>()) : std::nullopt;
      if (!l) err = KeyError(path, node, key, "expected \"debug\", \"info\", \"warn\" or \"error\"");
      else init.log_level = *l;
    } else if (k == "expect_exit") {
      const toml::array* codes = node.as_array();
      if (!codes) return KeyError(path, node, key, "expected an array of exit codes");
      for (const toml::node& c : *codes) {
        auto code = c.value_exact<std::int64_t>();  // value<> converts a float: UB when out of range
        if (!code || *code < 0 || *code > 255)
          return KeyError(path, c, key, "expected exit codes from 0 to 255");
        init.expect_exit.insert(static_cast<int>(*code));
      }
    } else if (k == "signal_rewrite") {
      const toml::table* rewrites = node.as_table();
      if (!rewrites) return KeyError(path, node, key, "expected a table such as { SIGTERM = \"SIGQUIT\" }");
      for (auto&& [from, to] : *rewrites) {
        auto from_sig = ParseSignal(from.str());
        const std::string entry = key + "." + std::string(from.str());
        int to_sig = 0;
        if (!from_sig) return KeyError(path, to, entry, "unknown signal");
        if (const char* why = RewriteSourceError(*from_sig)) return KeyError(path, to, entry, why);
        if (auto e = ReadSignal(path, to, entry, to_sig, true)) return e;
        init.signal_rewrite[*from_sig] = to_sig;
      }
    } else {
      err = UnknownKey(path, k, key);
    }
    if (err) return err;
  }
  return std::nullopt;
}

std::optional<std::string> ReadString(const std::string& path, const toml::node& node, std::string_view key,
                                      std::string& out) {
  if (!node.is_string()) return KeyError(path, node, key, "expected a string");
  out = *node.value<std::string>();
  return std::nullopt;
}

// An absolute path, or "" for the keys where empty means "the default" or
// "off" (`may_be_empty`).
std::optional<std::string> ReadPath(const std::string& path, const toml::node& node, std::string_view key,
                                    std::string& out, bool may_be_empty = false) {
  if (!node.is_string()) return KeyError(path, node, key, "expected an absolute path");
  std::string text = *node.value<std::string>();  // value() returns a copy
  if (text.empty() ? !may_be_empty : text.front() != '/') return KeyError(path, node, key, "expected an absolute path");
  out = std::move(text);
  return std::nullopt;
}

// A duration that must not be zero: a timeout of 0 would end every request
// or operation as it starts.
std::optional<std::string> ReadTimeout(const std::string& path, const toml::node& node, std::string_view key,
                                       std::chrono::milliseconds& out) {
  if (auto err = ReadDuration(path, node, key, out)) return err;
  if (out.count() == 0) return KeyError(path, node, key, "must be more than 0");
  return std::nullopt;
}

std::optional<std::string> ReadSize(const std::string& path, const toml::node& node, std::string_view key,
                                    std::uint64_t& out) {
  std::optional<std::uint64_t> size;
  if (node.is_string()) size = ParseSize(*node.value<std::string>());
  else if (node.is_integer() && *node.value<std::int64_t>() >= 0) size = static_cast<std::uint64_t>(*node.value<std::int64_t>());
  if (!size) return KeyError(path, node, key, "expected a size such as \"256M\"");
  out = *size;
  return std::nullopt;
}

std::optional<std::string> ReadCount(const std::string& path, const toml::node& node, std::string_view key,
                                     std::uint32_t& out) {
  if (!node.is_integer() || *node.value<std::int64_t>() < 0 || *node.value<std::int64_t>() > 0xffffffffLL)
    return KeyError(path, node, key, "expected a non-negative integer");
  out = static_cast<std::uint32_t>(*node.value<std::int64_t>());
  return std::nullopt;
}

std::optional<std::string> ApplyVaultSection(const std::string& path, const toml::table& table, VaultSettings& v) {
  for (auto&& [k, node] : table) {
    const std::string key = "vault." + std::string(k.str());
    std::optional<std::string> err;
    if (k == "enabled") err = ReadBool(path, node, key, v.enabled);
    else if (k == "mode") {
      std::string mode;
      err = ReadString(path, node, key, mode);
      if (!err && mode != "ram" && mode != "persistent") err = KeyError(path, node, key, "expected \"ram\" or \"persistent\"");
      v.ram_mode = mode == "ram";
    } else if (k == "enclave_dir") err = ReadPath(path, node, key, v.enclave_dir);
    else if (k == "enclave_size") {
      err = ReadSize(path, node, key, v.enclave_size);
      if (!err && v.enclave_size == 0) err = KeyError(path, node, key, "must be more than 0");
    } else if (k == "image") err = ReadPath(path, node, key, v.image, /*may_be_empty=*/true);
    else if (k == "image_size") err = ReadSize(path, node, key, v.image_size);
    else if (k == "mapping_name") {
      err = ReadString(path, node, key, v.mapping_name);
      if (!err && v.mapping_name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != std::string::npos)
        err = KeyError(path, node, key, "letters, digits, '-', '_' and '.' only");
      // What device-mapper itself refuses, refused at start rather than at
      // the first recovery (its name limit is 128 bytes with the NUL).
      else if (!err && (v.mapping_name == "." || v.mapping_name == ".." || v.mapping_name == "control"))
        err = KeyError(path, node, key, "\".\", \"..\" and \"control\" are device-mapper's own");
      else if (!err && v.mapping_name.size() > 127)
        err = KeyError(path, node, key, "at most 127 characters");
    } else if (k == "mountpoint") err = ReadPath(path, node, key, v.mountpoint, /*may_be_empty=*/true);
    else if (k == "pbkdf") {
      err = ReadString(path, node, key, v.pbkdf);
      if (!err && v.pbkdf != "argon2id" && v.pbkdf != "argon2i" && v.pbkdf != "pbkdf2")
        err = KeyError(path, node, key, "expected \"argon2id\", \"argon2i\" or \"pbkdf2\"");
    } else if (k == "pbkdf_iterations") err = ReadCount(path, node, key, v.pbkdf_iterations);
    else if (k == "pbkdf_memory_kib") err = ReadCount(path, node, key, v.pbkdf_memory_kib);
    else if (k == "pbkdf_parallel") err = ReadCount(path, node, key, v.pbkdf_parallel);
    else if (k == "pbkdf_time") err = ReadDuration(path, node, key, v.pbkdf_time);
    else if (k == "luks2_keyslots_size") {
      err = ReadSize(path, node, key, v.luks2_keyslots_size);
      // A passphrase change adds the new keyslot before it destroys the old
      // one (docs/vault.md), so the area holds at least two; libcryptsetup
      // wants whole 4 KiB blocks and at most 128 MiB.
      if (!err && v.luks2_keyslots_size != 0 &&
          (v.luks2_keyslots_size % 4096 != 0 || v.luks2_keyslots_size < vault::kTwoKeyslotsBytes ||
           v.luks2_keyslots_size > (128ULL << 20)))
        err = KeyError(path, node, key,
                       "0 (the default) or a multiple of 4096 from 516096 (504K: two keyslots) to 128M");
    }
    else if (k == "holder_grace") err = ReadDuration(path, node, key, v.holder_grace);
    else if (k == "operation_timeout") err = ReadTimeout(path, node, key, v.operation_timeout);
    else if (k == "helper") err = ReadPath(path, node, key, v.helper);
    else if (k == "unlock_hooks" || k == "lock_hooks") {
      const toml::array* list = node.as_array();
      if (!list) return KeyError(path, node, key, "expected an array of absolute paths");
      auto& hooks = k == "unlock_hooks" ? v.unlock_hooks : v.lock_hooks;
      for (const toml::node& h : *list) {
        std::string hook;
        if (auto e = ReadPath(path, h, key, hook)) return e;
        hooks.push_back(hook);
      }
    } else if (k == "hook_timeout") err = ReadDuration(path, node, key, v.hook_timeout);
    else if (k == "private_mount_namespace") err = ReadBool(path, node, key, v.private_mount_namespace);
    else err = UnknownKey(path, k, key);
    if (err) return err;
  }
  if (!v.ram_mode && v.image.empty())
    return path + ": vault.image: persistent mode needs the image's path on the volume";
  // PID 1 kills a helper at operation_timeout, and the vault is failed
  // until a lock mends it: an unlock that succeeded would be lost, and
  // every retry run its hooks again; a lock would end half way. So the
  // longest each may take, its hooks (run one after another) and its own
  // work, must fit.
  const auto too_short = [&](const char* operation, size_t hook_count, OwnWork own) -> std::optional<std::string> {
    const auto hooks = static_cast<long>(hook_count);
    if (v.hook_timeout * hooks + own.time < v.operation_timeout) return std::nullopt;
    return path + ": vault.operation_timeout: " + std::to_string(v.operation_timeout.count()) +
           " ms may be too short for " + operation + ": " + std::to_string(hooks) + " hook(s) of vault.hook_timeout (" +
           std::to_string(v.hook_timeout.count()) + " ms) each, and " + std::to_string(own.time.count()) +
           " ms of its own work (" + own.what + "): raise it, or lower those";
  };
  if (auto e = too_short("an unlock", v.unlock_hooks.size(), UnlockOwnWork(v))) return e;
  if (auto e = too_short("a lock", v.lock_hooks.size(), LockOwnWork(v))) return e;
  // libcryptsetup benchmarks for pbkdf_time when no iterations are given,
  // and refuses a time of 0, but only when a vault is made.
  if (v.pbkdf_iterations == 0 && v.pbkdf_time.count() == 0)
    return path + ": vault.pbkdf_time: must be more than 0 when pbkdf_iterations is 0 (the benchmark's target)";
  // Argon2's limits, checked once the whole section (pbkdf may come last)
  // is read: libcryptsetup would refuse them only when a vault is made.
  if (v.pbkdf != "pbkdf2") {
    if (v.pbkdf_iterations != 0 && v.pbkdf_iterations < 4)
      return path + ": vault.pbkdf_iterations: argon2 takes at least 4 passes (0: benchmark for pbkdf_time)";
    if (v.pbkdf_memory_kib == 0) return path + ": vault.pbkdf_memory_kib: must be more than 0";
    if (v.pbkdf_iterations != 0 && v.pbkdf_memory_kib < 32)
      return path + ": vault.pbkdf_memory_kib: argon2 with forced passes takes at least 32";
    if (v.pbkdf_memory_kib > 4194304)
      return path + ": vault.pbkdf_memory_kib: argon2 takes at most 4194304 (4 GiB)";
    if (v.pbkdf_parallel == 0) return path + ": vault.pbkdf_parallel: must be at least 1";
    if (v.pbkdf_parallel > 4) return path + ": vault.pbkdf_parallel: argon2 takes at most 4 threads";
  } else if (v.pbkdf_iterations != 0 && v.pbkdf_iterations < 1000) {
    return path + ": vault.pbkdf_iterations: pbkdf2 takes at least 1000 iterations (0: benchmark for pbkdf_time)";
  }
  return std::nullopt;
}

std::optional<std::string> ApplySessionSection(const std::string& path, const toml::table& table, SessionSettings& s) {
  for (auto&& [k, node] : table) {
    const std::string key = "session." + std::string(k.str());
    std::optional<std::string> err;
    if (k == "control") err = ReadBool(path, node, key, s.control);
    else if (k == "socket") {
      err = ReadPath(path, node, key, s.socket);
      // Root's socket beside it (session/protocol.h) must fit as well.
      if (!err && (!UnixAddress(s.socket) || !UnixAddress(session::RootSocketPath(s.socket))))
        err = KeyError(path, node, key,
                       "not a Unix socket's path: longer than " +
                           std::to_string(kMaxUnixSocketPath - (sizeof session::kRootSocketSuffix - 1)) +
                           " bytes (root's socket beside it adds \"" + session::kRootSocketSuffix +
                           "\"), or holding a NUL");
    }
    else if (k == "user") err = ReadString(path, node, key, s.user);
    else if (k == "min_passphrase_length") err = ReadCount(path, node, key, s.min_passphrase_length);
    else if (k == "lock_grace") err = ReadDuration(path, node, key, s.lock_grace);
    else if (k == "hangup_grace") err = ReadDuration(path, node, key, s.hangup_grace);
    else if (k == "throttle_base") err = ReadDuration(path, node, key, s.throttle_base);
    else if (k == "throttle_cap") err = ReadDuration(path, node, key, s.throttle_cap);
    else err = UnknownKey(path, k, key);
    if (err) return err;
  }
  return std::nullopt;
}

std::optional<std::string> ApplyHealthSection(const std::string& path, const toml::table& table, HealthSettings& h) {
  for (auto&& [k, node] : table) {
    const std::string key = "health." + std::string(k.str());
    std::optional<std::string> err;
    if (k == "http") err = ReadBool(path, node, key, h.http);
    else if (k == "listen") {
      std::string listen;
      err = ReadString(path, node, key, listen);
      const auto colon = listen.rfind(':');
      std::uint32_t port = 0;
      auto [end, ec] = colon == std::string::npos
                           ? std::from_chars_result{nullptr, std::errc::invalid_argument}
                           : std::from_chars(listen.data() + colon + 1, listen.data() + listen.size(), port);
      if (!err && (colon == std::string::npos || colon == 0 || ec != std::errc() ||
                   end != listen.data() + listen.size() || port == 0 || port > 65535))
        err = KeyError(path, node, key, "expected ADDRESS:PORT with a port from 1 to 65535, e.g. \"127.0.0.1:9090\"");
      std::string address = colon == std::string::npos ? "" : listen.substr(0, colon);
      // "[::1]:9090", the usual way to write an IPv6 address with a port.
      if (address.size() > 2 && address.front() == '[' && address.back() == ']')
        address = address.substr(1, address.size() - 2);
      // Checked here, by the function the endpoint binds with, so that a
      // name or a typo stops init at start rather than leaving it without
      // health checks (a host name is not resolved: PID 1 does no DNS).
      boost::system::error_code bad;
      if (!err) (void)boost::asio::ip::make_address(address, bad);
      if (!err && bad)
        err = KeyError(path, node, key, "\"" + address + "\" is not an IP address (e.g. \"0.0.0.0:9090\", \"[::]:9090\")");
      if (!err) {
        h.address = address;
        h.port = static_cast<std::uint16_t>(port);
      }
    } else if (k == "max_connections") err = ReadCount(path, node, key, h.max_connections);
    else if (k == "read_timeout") err = ReadTimeout(path, node, key, h.read_timeout);
    else if (k == "max_vault_operation") err = ReadTimeout(path, node, key, h.max_vault_operation);
    else if (k == "audit_log") err = ReadPath(path, node, key, h.audit_log, /*may_be_empty=*/true);
    else err = UnknownKey(path, k, key);
    if (err) return err;
  }
  if (h.max_connections == 0) return path + ": health.max_connections: must be at least 1";
  // Each is a descriptor of PID 1's, which it also needs for sessions,
  // helpers and /proc: a flood must not take them all.
  if (h.max_connections > kMaxHttpConnections)
    return path + ": health.max_connections: must be at most " + std::to_string(kMaxHttpConnections);
  return std::nullopt;
}

}  // namespace

ConfigLocation DefaultConfigLocation() {
  const char* env = std::getenv("TAZPOD_CONFIG");
  if (env && *env) return {env, true};
  return {kDefaultConfigPath, false};
}

std::optional<std::uint64_t> ParseSize(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc()) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  int shift = 0;
  if (unit == "K") shift = 10;
  else if (unit == "M") shift = 20;
  else if (unit == "G") shift = 30;
  else if (!unit.empty()) return std::nullopt;
  if (value > (UINT64_MAX >> shift)) return std::nullopt;
  return value << shift;
}

std::optional<std::chrono::milliseconds> ParseDuration(std::string_view text) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || value < 0) return std::nullopt;
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  std::int64_t unit_ms = 0;
  if (unit == "ms" || (unit.empty() && value == 0)) unit_ms = 1;  // a bare 0 needs no unit
  else if (unit == "s") unit_ms = 1000;
  else if (unit == "m") unit_ms = std::int64_t{60} * 1000;
  else return std::nullopt;
  // A day: anything longer is a typo. Checked before multiplying, which
  // would overflow for a huge count ("307445734561826m" wrapped to 8.4 s).
  constexpr std::int64_t kDayMs = 24LL * 3600 * 1000;
  if (value > kDayMs / unit_ms) return std::nullopt;
  return std::chrono::milliseconds(value * unit_ms);
}

const char* RewriteSourceError(int signal) {
  if (IsForwardable(signal)) return nullptr;
  return "init never forwards this signal (it handles it itself, or it cannot be caught), so a rewrite of it would "
         "do nothing";
}

std::optional<std::pair<int, int>> ParseRewrite(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto from = ParseSignal(text.substr(0, colon));
  std::string_view to_text = text.substr(colon + 1);
  std::optional<int> to = to_text == "0" ? std::optional<int>(0) : ParseSignal(to_text);
  if (!from || !to) return std::nullopt;
  return std::make_pair(*from, *to);
}

std::optional<std::string> ApplyConfigFile(const std::string& path, bool must_exist,
                                           Config& config) {
  // stat(), not std::filesystem::exists(): the same answer (any failure is
  // "absent"), without linking std::filesystem and its streams into PID 1.
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    if (must_exist) return path + ":0:0: configuration file not found";
    return std::nullopt;
  }
  // Not even opened otherwise: opening a device may itself do something.
  if (!S_ISREG(st.st_mode)) return path + ":0:0: not a regular file";
  std::string error;
  std::optional<std::string> text = ReadWholeFile(path, &error);
  if (!text) return path + ":0:0: " + error;
  return ApplyConfigText(*text, path, config);
}

std::optional<std::string> ApplyConfigText(std::string_view text, const std::string& path, Config& config) {
  if (const size_t bad = FirstNonAscii(text); bad != std::string_view::npos) {
    const std::string_view before = text.substr(0, bad);
    const size_t line = static_cast<size_t>(std::count(before.begin(), before.end(), '\n')) + 1;
    const size_t line_start = before.rfind('\n');
    const size_t column = bad - (line_start == std::string_view::npos ? 0 : line_start + 1) + 1;
    return path + ":" + std::to_string(line) + ":" + std::to_string(column) +
           ": non-ASCII text (a configuration file is ASCII only; docs/configuration.md)";
  }
  toml::table root;
  try {
    root = toml::parse(WithoutCommentLines(text), path);
  } catch (const toml::parse_error& e) {
    return Where(path, e.source()) + ": " + std::string(e.description());
  }
  for (auto&& [section, node] : root) {
    const toml::table* table = node.as_table();
    if (section == "init") {
      if (!table) return KeyError(path, node, "init", "expected a table [init]");
      if (auto err = ApplyInitSection(path, *table, config.init)) return err;
    } else if (section == "vault") {
      if (!table) return KeyError(path, node, "vault", "expected a table [vault]");
      if (auto err = ApplyVaultSection(path, *table, config.vault)) return err;
    } else if (section == "session") {
      if (!table) return KeyError(path, node, "session", "expected a table [session]");
      if (auto err = ApplySessionSection(path, *table, config.session)) return err;
    } else if (section == "health") {
      if (!table) return KeyError(path, node, "health", "expected a table [health]");
      if (auto err = ApplyHealthSection(path, *table, config.health)) return err;
    } else {
      return Where(path, section.source()) + ": " + std::string(section.str()) + ": unknown section";
    }
  }
  return std::nullopt;
}

void ApplyEnvironment(Config& config) {
  if (const char* v = std::getenv("TINI_KILL_PROCESS_GROUP"); v && *v) {
    config.init.forward_to_process_group = true;
  }
  if (const char* v = std::getenv("DUMB_INIT_SETSID"); v && std::string_view(v) == "0") {
    config.init.forward_to_process_group = false;
  }
  if (const char* v = std::getenv("TINI_VERBOSITY"); v && *v) {
    // tini: 0 errors only, 1 warnings (its default), 2 info, 3 debug.
    // Leading digits, as tini's atoi() reads them ("x" is 0), but strtol is
    // defined past the range of a long: it clamps, which the chain below
    // maps to debug or errors only.
    const long level = std::strtol(v, nullptr, 10);
    config.init.log_level = level >= 3   ? LogLevel::kDebug
                            : level == 2 ? LogLevel::kInfo
                            : level == 1 ? LogLevel::kWarn
                                         : LogLevel::kError;
  }
}

}  // namespace tazpod::init
