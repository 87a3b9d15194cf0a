// Fuzz target: the configuration file (init/config.h), TOML read by toml++
// and checked key by key. The file is written by whoever builds the image or
// mounts a ConfigMap, and a bad one must end in exit 2 with a message, never
// in a crash, an exception out of ApplyConfigText or undefined behaviour in
// the value parsers (durations, sizes, signals, ADDRESS:PORT).
//
// Also checks that taking comment lines out (init/comment_lines.h) changes
// nothing toml++ makes of the text: the same error at the same place, or
// the same values at the same places.
//
// Also runs the value parsers the command line shares (--grace-period,
// --rewrite) on the raw input, and checks what they accept is in range.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

#include <toml++/toml.h>

#include "init/comment_lines.h"
#include "init/config.h"
#include "init/signal_names.h"

using namespace tazpod::init;

namespace {

// Where config.cc's messages say a node, key or error is: where it begins.
// (The root table ends where the text does, so its end moves with the
// comments taken out.)
bool SamePlace(const toml::source_region& a, const toml::source_region& b) { return a.begin == b.begin; }

// The same values, each at the same place, under keys at the same places.
bool SameNodes(const toml::node& a, const toml::node& b) {
  if (a.type() != b.type() || !SamePlace(a.source(), b.source())) return false;
  if (const toml::table* ta = a.as_table()) {
    const toml::table& tb = *b.as_table();
    if (ta->size() != tb.size()) return false;
    for (auto&& [key, node] : *ta) {
      auto other = tb.find(key);
      if (other == tb.end() || !SamePlace(key.source(), other->first.source()) || !SameNodes(node, other->second))
        return false;
    }
    return true;
  }
  if (const toml::array* aa = a.as_array()) {
    const toml::array& ab = *b.as_array();
    if (aa->size() != ab.size()) return false;
    for (std::size_t i = 0; i < aa->size(); ++i)
      if (!SameNodes((*aa)[i], ab[i])) return false;
    return true;
  }
  return a.visit([&b](const auto& value) {
    using Node = std::remove_cvref_t<decltype(value)>;
    if constexpr (toml::is_table<Node> || toml::is_array<Node>) {
      return false;  // handled above
    } else {
      const Node* other = b.as<typename Node::value_type>();
      return other && *other == value;
    }
  });
}

// toml++ reads only ASCII here (init/config.cc says why).
bool Ascii(std::string_view text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

// What toml++ makes of `text`: a table, or an error at a place.
struct Parsed {
  std::optional<toml::table> table;
  std::string error;
  toml::source_region where;
};

Parsed Parse(std::string_view text) {
  try {
    return {toml::parse(text, std::string_view("f")), {}, {}};
  } catch (const toml::parse_error& e) {
    return {std::nullopt, std::string(e.description()), e.source()};
  }
}

void CheckCommentLinesChangeNothing(std::string_view text) {
  if (!Ascii(text)) return;
  const Parsed as_is = Parse(text);
  const Parsed without = Parse(WithoutCommentLines(text));
  if (as_is.table.has_value() != without.table.has_value()) std::abort();
  if (!as_is.table) {
    if (as_is.error != without.error || !SamePlace(as_is.where, without.where)) std::abort();
    return;
  }
  if (!SameNodes(*as_is.table, *without.table)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  CheckCommentLinesChangeNothing(text);

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
