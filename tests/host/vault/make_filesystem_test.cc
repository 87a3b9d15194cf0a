// mkfs.ext4 (vault/make_filesystem.h) is the system's, whatever PATH the
// helper inherited: PID 1's starts with /usr/local/sbin, where an image
// may put a program of its own by that name, which would then run as root
// on the open mapping. Here on a file; the vm tier makes real vaults.
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch_test_macros.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "vault/make_filesystem.h"

namespace vault = tazpod::vault;

TEST_CASE("mkfs: the system's mkfs.ext4 runs, not one found first on PATH") {
  if (access("/usr/sbin/mkfs.ext4", X_OK) != 0 && access("/sbin/mkfs.ext4", X_OK) != 0)
    SKIP("no mkfs.ext4 (e2fsprogs)");
  char dir[] = "/tmp/tazpod-mkfs-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  const std::string base = dir;
  const std::string planted = base + "/mkfs.ext4";
  const std::string marker = base + "/planted-one-ran";
  std::ofstream(planted) << "#!/bin/sh\ntouch " << marker << "\nexit 0\n";
  REQUIRE(chmod(planted.c_str(), 0755) == 0);
  const std::string device = base + "/device";
  std::ofstream(device).close();
  std::filesystem::resize_file(device, 8 << 20);

  const char* old_path = getenv("PATH");
  const std::string saved = old_path ? old_path : "";
  REQUIRE(setenv("PATH", old_path ? (base + ":" + saved).c_str() : base.c_str(), 1) == 0);
  const vault::VaultStatus made = vault::MakeExt4(device);
  // An empty PATH would mean the working directory: unset, it is unset again.
  REQUIRE((old_path ? setenv("PATH", saved.c_str(), 1) : unsetenv("PATH")) == 0);

  const bool planted_ran = std::filesystem::exists(marker);
  // The real one wrote ext4's magic (0xEF53, little-endian) at 1080.
  std::ifstream image(device, std::ios::binary);
  image.seekg(1080);
  unsigned char magic[2] = {};
  image.read(reinterpret_cast<char*>(magic), 2);
  std::filesystem::remove_all(base);
  CHECK_FALSE(planted_ran);
  CHECK_FALSE(made.has_value());
  CHECK((magic[0] == 0x53 && magic[1] == 0xEF));
}
