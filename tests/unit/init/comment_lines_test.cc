// Comment lines out of a configuration before toml++ reads it: only lines
// toml++ would skip go, every line break stays, and where telling a
// comment from a string's line would take a lexer, nothing goes.
#include "init/comment_lines.h"

#include <catch2/catch_test_macros.hpp>
#include <string>

#include "init/config.h"

using tazpod::init::ApplyConfigText;
using tazpod::init::WithoutCommentLines;

TEST_CASE("comment lines: whole-line comments go, their line breaks and everything else stay") {
  CHECK(WithoutCommentLines("# a\n[init]\n  \t# b\ngrace_period = \"8s\" # after a value\n\nx = '#'\n") ==
        "\n[init]\n\ngrace_period = \"8s\" # after a value\n\nx = '#'\n");
  CHECK(WithoutCommentLines("").empty());
  CHECK(WithoutCommentLines("#\n#\n#\n") == "\n\n#\n");
}

TEST_CASE("comment lines: the last line stays, where an error at the end of the text is placed") {
  CHECK(WithoutCommentLines("# a\nx = [1,\n# the end") == "\nx = [1,\n# the end");
  CHECK(WithoutCommentLines("# a\nx = [1,\n# the end\n") == "\nx = [1,\n# the end\n");
  tazpod::init::Config config;
  CHECK(ApplyConfigText("# a\nx = [1,\n# the end\n", "/c.toml", config).value_or("").starts_with("/c.toml:3:11:"));
}

TEST_CASE("comment lines: a CRLF line keeps its CR; a CR anywhere else keeps the line") {
  CHECK(WithoutCommentLines("# a\r\nx = 1\r\n") == "\r\nx = 1\r\n");
  CHECK(WithoutCommentLines("# a\r\n# b\r\nx = 1\r\n") == "\r\n\r\nx = 1\r\n");
  CHECK(WithoutCommentLines("# a\rb\nx = 1\n") == "# a\rb\nx = 1\n");
  CHECK(WithoutCommentLines("x = 1\n# at the end\r") == "x = 1\n# at the end\r");
}

TEST_CASE("comment lines: a comment toml++ would refuse is left for it to refuse") {
  const std::string control("# a\x01 b\nx = 1\n");
  CHECK(WithoutCommentLines(control) == control);
  const std::string del("# a\x7f\nx = 1\n");
  CHECK(WithoutCommentLines(del) == del);
}

TEST_CASE("comment lines: a file with a multi-line string is left as it is") {
  const std::string basic = "# a\nx = \"\"\"\n# a line of the string\n\"\"\"\n";
  CHECK(WithoutCommentLines(basic) == basic);
  const std::string literal = "# a\nx = '''\n# a line of the string\n'''\n";
  CHECK(WithoutCommentLines(literal) == literal);
  const std::string in_comment = "# '''\n# b\nx = 1\n";
  CHECK(WithoutCommentLines(in_comment) == in_comment);
}

TEST_CASE("comment lines: errors after comments still name the file's line and column") {
  tazpod::init::Config config;
  CHECK(ApplyConfigText("# one\n  # two\n[init]\n# three\ngrace_period = \"soon\"\n", "/c.toml", config).value_or("")
            .starts_with("/c.toml:5:16:"));
  CHECK(ApplyConfigText("# one\n# two\n[init\n", "/c.toml", config).value_or("").starts_with("/c.toml:3:"));
}
