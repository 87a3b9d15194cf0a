// Fuzz target: the configuration file (init/config.h), TOML read by toml++
// and checked key by key. The file is written by whoever builds the image or
// mounts a ConfigMap, and a bad one must end in exit 2 with a message, never
// in a crash, an exception out of ApplyConfigText or undefined behaviour in
// the value parsers (durations, sizes, signals, ADDRESS:PORT).
//
// Also runs the value parsers the command line shares (--grace-period,
// --rewrite) on the raw input, and checks what they accept is in range.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "init/config.h"
#include "init/signal_names.h"

using namespace tazpod::init;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  Config config;
  std::optional<std::string> error = ApplyConfigText(text, "/fuzz/config.toml", config);
  if (error) {
    if (!error->starts_with("/fuzz/config.toml:")) std::abort();  // every message names the file
  } else {
    if (config.health.max_connections == 0) std::abort();
    if (!config.vault.ram_mode && config.vault.image.empty()) std::abort();
    for (const auto& [from, to] : config.init.signal_rewrite)
      if (from <= 0 || to < 0) std::abort();
    for (int code : config.init.expect_exit)
      if (code < 0 || code > 255) std::abort();
  }

  if (auto d = ParseDuration(text); d && (d->count() < 0 || *d > std::chrono::hours(24))) std::abort();
  (void)ParseSize(text);
  if (auto r = ParseRewrite(text); r && (r->first <= 0 || r->second < 0)) std::abort();
  (void)ParseSignal(text);
  return 0;
}
