#include "common/line_splitter.h"

#include <catch2/catch_test_macros.hpp>
#include <string>
#include <vector>

using tazpod::LineSplitter;

namespace {

// The lines a LineSplitter with `max_line` passed on.
struct Split {
  explicit Split(size_t max_line) : splitter(max_line, [this](std::string_view line) { lines.emplace_back(line); }) {}
  std::vector<std::string> lines;
  LineSplitter splitter;
};

}  // namespace

TEST_CASE("line splitter: lines come with their newline, however the reads cut them") {
  Split s(16);
  s.splitter.Take("one\ntw");
  REQUIRE(s.lines == std::vector<std::string>{"one\n"});
  s.splitter.Take("o\n\nthr");
  CHECK(s.lines == std::vector<std::string>{"one\n", "two\n", "\n"});
  s.splitter.End();
  CHECK(s.lines == std::vector<std::string>{"one\n", "two\n", "\n", "thr"});
  s.splitter.End();  // nothing left: nothing more
  CHECK(s.lines.size() == 4);
}

TEST_CASE("line splitter: a long line comes in pieces, and the newline after the last one makes no empty line") {
  Split s(4);
  s.splitter.Take("abcdefghij\n");
  CHECK(s.lines == std::vector<std::string>{"abcd", "efgh", "ij\n"});

  // Exactly the limit and its newline, in one read: one whole line.
  Split whole(4);
  whole.splitter.Take("abcd\nef\n");
  CHECK(whole.lines == std::vector<std::string>{"abcd\n", "ef\n"});

  // Cut at the limit, its newline in the next read: ends that line only.
  Split cut(4);
  cut.splitter.Take("abcd");
  cut.splitter.Take("\n\nx\n");
  CHECK(cut.lines == std::vector<std::string>{"abcd", "\n", "x\n"});

  // A piece cut across reads, from an unfinished part.
  Split across(4);
  across.splitter.Take("ab");
  across.splitter.Take("cdef\n");
  CHECK(across.lines == std::vector<std::string>{"abcd", "ef\n"});
}

TEST_CASE("line splitter: a newline that ends the rest of a cut line, in a later read, is kept") {
  // The rest after the piece ("e") is a line of its own: its newline, in
  // the next read, ends it and is not taken for the piece's.
  Split s(4);
  s.splitter.Take("abcde");
  s.splitter.Take("\nfoo\n");
  CHECK(s.lines == std::vector<std::string>{"abcd", "e\n", "foo\n"});

  // A writer that ended right after a piece: the next writer's empty first
  // line is a line (PID 1's relay keeps one splitter for every helper).
  Split ended(4);
  ended.splitter.Take("abcd");
  ended.splitter.End();
  ended.splitter.Take("\nx\n");
  CHECK(ended.lines == std::vector<std::string>{"abcd", "\n", "x\n"});
}
