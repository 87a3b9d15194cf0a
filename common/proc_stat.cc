#include "common/proc_stat.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <string>

#include "common/unique_fd.h"

namespace tazpod {

namespace {

// The next space-separated field of `rest`, consumed; empty at the end.
std::string_view NextField(std::string_view& rest) {
  const size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  const size_t end = rest.find_first_of(" \n");
  std::string_view field = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return field;
}

template <typename Number>
bool ParseWhole(std::string_view field, Number& out) {
  if (field.empty()) return false;
  auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), out);
  return error == std::errc() && end == field.data() + field.size();
}

}  // namespace

std::optional<ProcStat> ParseProcStat(std::string_view text) {
  const size_t close_paren = text.rfind(')');
  if (close_paren == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(close_paren + 1);

  ProcStat stat;
  const std::string_view state = NextField(rest);
  if (state.size() != 1) return std::nullopt;
  stat.state = state[0];
  long long ppid = 0, pgrp = 0, session = 0, tty_nr = 0, tpgid = 0;
  if (!ParseWhole(NextField(rest), ppid) || !ParseWhole(NextField(rest), pgrp) ||
      !ParseWhole(NextField(rest), session) || !ParseWhole(NextField(rest), tty_nr) ||
      !ParseWhole(NextField(rest), tpgid) || !ParseWhole(NextField(rest), stat.flags))
    return std::nullopt;
  stat.ppid = static_cast<pid_t>(ppid);
  stat.pgrp = static_cast<pid_t>(pgrp);
  stat.session = static_cast<pid_t>(session);
  // The kernel prints the device number as a signed int; its bits are what count.
  stat.tty_nr = static_cast<unsigned int>(tty_nr);
  return stat;
}

std::optional<ProcStat> ReadProcStat(pid_t pid) {
  const std::string path = "/proc/" + std::to_string(pid) + "/stat";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  // A line is a few hundred bytes; the name is at most 64 of them.
  char buf[1024];
  ssize_t n;
  do n = read(fd.get(), buf, sizeof buf);
  while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  return ParseProcStat(std::string_view(buf, static_cast<size_t>(n)));
}

}  // namespace tazpod
