// The guard of a new image (vault/image_lock.h) on a tmpfs of the case's
// own: it deletes the half-made image it was given, never a file that took
// its name since, and with no descriptor left to keep the lock it deletes
// the image at once and says so. (The vm tier's vault_crash_* scenarios run
// it inside real unlocks.)
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <cerrno>
#include <string>
#include <vector>

#include "common/unique_fd.h"
#include "tests/host/on_tmpfs.h"
#include "vault/image_lock.h"

namespace vault = tazpod::vault;
using tazpod::UniqueFd;

namespace {

bool Exists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

// A new image, as the unlock makes it: created, and write-locked.
UniqueFd MakeLockedImage(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (fd && vault::LockImage(fd.get(), path)) fd.Reset();
  return fd;
}

// Another container's image put where ours was.
bool ReplaceWithAnother(const std::string& path) {
  const std::string other = path + ".other";
  UniqueFd fd(open(other.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  return fd && rename(other.c_str(), path.c_str()) == 0;
}

int WithImage(int (*body)(const std::string& image)) {
  return tazpod::testing::OnTmpfs("1m", [body](const std::string& dir, dev_t) {
    return body(dir + "/vault.img.creating");
  });
}

}  // namespace

TEST_CASE("new image: a failed unlock's image is deleted, after the loop device let its descriptor go") {
  CHECK(WithImage([](const std::string& image) {
          UniqueFd fd = MakeLockedImage(image);
          if (!fd) return 10;
          {
            vault::NewImageGuard guard(image, true, fd.get());
            if (guard.error() != 0) return 11;
            fd.Reset();  // the loop device closed it
            if (!Exists(image)) return 12;
          }
          return Exists(image) ? 13 : 0;
        }) == 0);
}

TEST_CASE("new image: one released, or one that was there before, is kept") {
  CHECK(WithImage([](const std::string& image) {
          UniqueFd fd = MakeLockedImage(image);
          if (!fd) return 10;
          { vault::NewImageGuard there_before(image, false, fd.get()); }
          if (!Exists(image)) return 11;
          {
            vault::NewImageGuard guard(image, true, fd.get());
            guard.Release();
          }
          return Exists(image) ? 0 : 12;
        }) == 0);
}

TEST_CASE("new image: the guard follows a rename, and deletes under the new name") {
  CHECK(WithImage([](const std::string& image) {
          UniqueFd fd = MakeLockedImage(image);
          if (!fd) return 10;
          const std::string renamed = image + ".done";
          {
            vault::NewImageGuard guard(image, true, fd.get());
            if (rename(image.c_str(), renamed.c_str()) != 0) return 11;
            guard.Renamed(renamed);
          }
          return Exists(renamed) ? 12 : 0;
        }) == 0);
}

TEST_CASE("new image: a file that took the image's name meanwhile is left alone") {
  CHECK(WithImage([](const std::string& image) {
          UniqueFd fd = MakeLockedImage(image);
          if (!fd) return 10;
          {
            vault::NewImageGuard guard(image, true, fd.get());
            fd.Reset();
            if (!ReplaceWithAnother(image)) return 11;
          }
          return Exists(image) ? 0 : 12;
        }) == 0);
}

TEST_CASE("new image: with no descriptor left for the lock, the image goes at once, and never another's later") {
  CHECK(WithImage([](const std::string& image) {
          UniqueFd fd = MakeLockedImage(image);
          if (!fd) return 10;
          // Every descriptor number up to the image's own is taken, so the
          // guard's copy finds none free (EMFILE).
          struct rlimit limit {};
          if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 11;
          limit.rlim_cur = static_cast<rlim_t>(fd.get()) + 1;
          if (setrlimit(RLIMIT_NOFILE, &limit) != 0) return 12;
          std::vector<UniqueFd> fillers;
          for (;;) {
            UniqueFd filler(open("/dev/null", O_RDONLY | O_CLOEXEC));
            if (!filler) break;
            fillers.push_back(std::move(filler));
          }
          if (errno != EMFILE) return 13;
          {
            vault::NewImageGuard guard(image, true, fd.get());
            if (guard.error() != EMFILE) return 14;
            if (Exists(image)) return 15;  // deleted while still locked
            fd.Reset();
            fillers.clear();
            // Another container makes its own image under that name: the
            // guard, which has nothing left to check it by, leaves it.
            if (!ReplaceWithAnother(image)) return 16;
          }
          return Exists(image) ? 0 : 17;
        }) == 0);
}
