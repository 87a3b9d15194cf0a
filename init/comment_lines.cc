#include "init/comment_lines.h"

namespace tazpod::init {

namespace {

// What a TOML comment may hold, in ASCII: tab and the printable characters.
bool CommentCharacter(char c) { return c == '\t' || (c >= 0x20 && c < 0x7f); }

// Whether `line`, without its line break, is a comment line toml++ would
// skip.
bool SkippableComment(std::string_view line) {
  std::size_t at = line.find_first_not_of(" \t");
  if (at == std::string_view::npos || line[at] != '#') return false;
  for (char c : line.substr(at)) {
    if (!CommentCharacter(c)) return false;
  }
  return true;
}

}  // namespace

std::string WithoutCommentLines(std::string_view toml) {
  if (toml.find("\"\"\"") != std::string_view::npos || toml.find("'''") != std::string_view::npos)
    return std::string(toml);
  std::string out;
  out.reserve(toml.size());
  std::size_t start = 0;
  while (start < toml.size()) {
    std::size_t newline = toml.find('\n', start);
    const std::size_t end = newline == std::string_view::npos ? toml.size() : newline;
    // A CRLF line's CR is part of its break, not of the comment. (A CR
    // anywhere else is no comment character: the line stays.)
    const bool crlf = newline != std::string_view::npos && end > start && toml[end - 1] == '\r';
    const std::size_t content_end = crlf ? end - 1 : end;
    const std::string_view line = toml.substr(start, content_end - start);
    // The last line stays: toml++ places an error at the end of the text
    // (an array left open) on the last character it read.
    const bool last = newline == std::string_view::npos || newline + 1 == toml.size();
    if (last || !SkippableComment(line)) out.append(line);
    out.append(toml.substr(content_end, end - content_end));  // the CR, if any
    if (newline == std::string_view::npos) break;
    out.push_back('\n');
    start = newline + 1;
  }
  return out;
}

}  // namespace tazpod::init
