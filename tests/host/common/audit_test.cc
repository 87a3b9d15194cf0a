// The audit file on a real file system that fills up (a 16 kB tmpfs in a
// mount namespace of the test's own): events that cannot be appended are
// dropped without stopping the caller, the gap is said once when it opens
// and once, with its size, when it closes, and a line cut short by the full
// disk spoils no other.
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <functional>
#include <string>
#include <vector>

#include "common/audit.h"
#include "common/log.h"
#include "tests/host/on_tmpfs.h"

namespace {

constexpr off_t kPage = 4096;

// Runs `body` on a 16 kB tmpfs of a mount namespace of its own.
int OnSmallTmpfs(const std::function<int(const std::string& dir)>& body) {
  return tazpod::testing::OnTmpfs("16k", [&](const std::string& dir, dev_t) { return body(dir); });
}

off_t SizeOf(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

std::string ReadAll(int fd) {
  std::string text;
  char buf[4096];
  if (lseek(fd, 0, SEEK_SET) != 0) return text;
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  return text;
}

int Count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Fills the file system `dir` is on, in a file of its own.
bool Fill(const std::string& filler) {
  const int fd = open(filler.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  const std::string chunk(kPage, 'f');
  while (write(fd, chunk.data(), chunk.size()) > 0) {
  }
  const bool full = errno == ENOSPC;
  close(fd);
  return full;
}

void AuditPadded(size_t pad) {
  tazpod::Audit(tazpod::LogLevel::kInfo, "gate.accepted", {{"pad", std::string(pad, 'x')}});
}

}  // namespace

TEST_CASE("audit: a full disk drops events without stopping the caller, says so twice, and tears one line at most") {
  CHECK(OnSmallTmpfs([](const std::string& dir) {
          const int log = memfd_create("log", MFD_CLOEXEC);
          if (log < 0) return 1;
          tazpod::ConfigureLog(tazpod::LogFormat::kText, tazpod::LogLevel::kInfo, log);
          const std::string file = dir + "/audit.log";
          if (!tazpod::OpenAuditFile(file).empty()) return 2;

          // Whole lines up to 10 bytes short of the file's first page.
          const size_t bare =
              tazpod::FormatLogLine(tazpod::LogFormat::kJson, 0, tazpod::LogLevel::kInfo, "gate.accepted", {{"pad", ""}})
                  .size();
          int whole = 0;
          while (kPage - 10 - SizeOf(file) >= static_cast<off_t>(bare + 200)) {
            AuditPadded(100);
            ++whole;
          }
          AuditPadded(static_cast<size_t>(kPage - 10 - SizeOf(file)) - bare);
          ++whole;
          if (SizeOf(file) != kPage - 10) return 3;

          // Full: the next event fits only in part (the rest of the page), the
          // two after it not at all.
          if (!Fill(dir + "/filler")) return 4;
          AuditPadded(50);
          if (SizeOf(file) != kPage) return 5;  // cut short: the file ends inside a line
          AuditPadded(50);
          AuditPadded(50);
          if (SizeOf(file) != kPage) return 6;
          std::string said = ReadAll(log);
          if (Count(said, "audit.write_failed error=\"No space left on device\"") != 1) return 7;
          if (Count(said, "audit.write_resumed") != 0) return 8;

          // Room again: the gap is recorded, then the next event, each on a
          // line of its own after the torn one.
          if (unlink((dir + "/filler").c_str()) != 0) return 9;
          AuditPadded(50);
          said = ReadAll(log);
          if (Count(said, "audit.write_failed") != 1) return 10;
          if (Count(said, "audit.write_resumed dropped=3") != 1) return 11;

          const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
          const std::string trail = ReadAll(fd);
          close(fd);
          if (trail.empty() || trail.back() != '\n') return 12;
          int json = 0;
          int other = 0;
          size_t start = 0;
          for (size_t end; (end = trail.find('\n', start)) != std::string::npos; start = end + 1) {
            const std::string line = trail.substr(start, end - start);
            if (!line.empty() && line.front() == '{' && line.back() == '}') {
              ++json;
            } else {
              ++other;
            }
          }
          if (json != whole + 2) return 13;  // every line before the gap, the gap's, the one after
          if (other != 1) return 14;          // the torn line, on its own
          if (Count(trail, R"("event":"audit.gap","dropped":3})") != 1) return 15;
          return 0;
        }) == 0);
}

TEST_CASE("audit: a file left ending inside a line (a full disk in an earlier run) gets the next event on a line of its own") {
  CHECK(OnSmallTmpfs([](const std::string& dir) {
          const std::string file = dir + "/audit.log";
          const int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
          if (fd < 0) return 1;
          const std::string torn = R"({"time":"2026-12-01T00:00:00.000Z","lev)";
          if (write(fd, torn.data(), torn.size()) != static_cast<ssize_t>(torn.size())) return 2;
          close(fd);
          if (!tazpod::OpenAuditFile(file).empty()) return 3;
          AuditPadded(3);
          const int in = open(file.c_str(), O_RDONLY | O_CLOEXEC);
          const std::string trail = ReadAll(in);
          close(in);
          if (trail.rfind(torn + "\n{\"time\"", 0) != 0) return 4;  // the torn line alone, then the event
          if (trail.back() != '\n' || Count(trail, "\n") != 2) return 5;
          return 0;
        }) == 0);
}

// Whoever may write the audit file's directory could put a FIFO in its
// place: opened as a file, it would block PID 1 (at the open with no
// reader, at a write once a reader stops reading). It is refused at once,
// and events go on to stderr alone.
TEST_CASE("audit: a FIFO in the audit file's place is refused at once, with or without a reader") {
  CHECK(OnSmallTmpfs([](const std::string& dir) {
          const std::string file = dir + "/audit.log";
          if (mkfifo(file.c_str(), 0600) != 0) return 1;
          alarm(10);  // a blocked open fails the test rather than hanging it
          const std::string alone = tazpod::OpenAuditFile(file);
          if (alone.find("is not a regular file") == std::string::npos) return 2;
          const int reader = open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
          if (reader < 0) return 3;
          const std::string read = tazpod::OpenAuditFile(file);
          if (read.find("is not a regular file") == std::string::npos) return 4;
          AuditPadded(70000);  // more than a pipe holds: would block were it the trail
          alarm(0);
          close(reader);
          return 0;
        }) == 0);
}
