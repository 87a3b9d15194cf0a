// Comment lines taken out of TOML text before toml++ reads it.
//
// Why: toml++ spends about 150 instructions on each character of a comment,
// and PID 1 reads its configuration before it starts the main child. The
// image's config.toml is four-fifths comments: they cost more than the rest
// of init's own start together (docs/benchmarks.md, session 36). Taking the
// lines out first costs a few instructions a character.
//
// What goes is exactly what toml++ would skip: a line whose first character
// after spaces and tabs is '#', and whose comment holds only what a TOML
// comment may (tabs and printable ASCII). Its newline stays, so every line
// and column toml++ reports (an error, a key's position) is the same as in
// the file; and the last line stays, since an error at the end of the text
// (an array never closed) is placed on its last character. A comment that
// toml++ would refuse is left for it to refuse.
//
// A file with a multi-line string anywhere (""" or ''', even in a
// comment) is returned as it is: a line of such a string may begin with
// '#', and telling which lines do would take a TOML lexer of our own.
// Without one, no string spans lines, so a '#' first on a line starts a
// comment wherever toml++ reads it (between keys, between an array's
// values), or comes after an error toml++ has already stopped at. The
// fuzz target tests/fuzz/config_file.cc checks, on every input, that
// toml++ makes the same of the text with and without these lines.
#pragma once

#include <string>
#include <string_view>

namespace tazpod::init {

std::string WithoutCommentLines(std::string_view toml);

}  // namespace tazpod::init
