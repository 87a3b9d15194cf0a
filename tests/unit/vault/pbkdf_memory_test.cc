#include "vault/pbkdf_memory.h"

#include <catch2/catch_test_macros.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

using tazpod::vault::ArgonMemoryWithin;
using tazpod::vault::CgroupMemoryLimit;

namespace {

// A stand-in for /sys/fs/cgroup, removed at the end.
class CgroupTree {
 public:
  CgroupTree() {
    char dir[] = "/tmp/tazpod-cgroup-XXXXXX";
    root_ = mkdtemp(dir);
  }
  ~CgroupTree() { std::filesystem::remove_all(root_); }
  void Write(const std::string& file, const std::string& text) {
    const std::filesystem::path path = root_ + file;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path) << text << "\n";
  }
  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace

TEST_CASE("pbkdf memory: the cgroup v2 limit is the tightest of the cgroup and its ancestors") {
  CgroupTree tree;
  tree.Write("/memory.max", "max");
  tree.Write("/pod/memory.max", "536870912");
  tree.Write("/pod/ctr/memory.max", "max");
  CHECK(CgroupMemoryLimit("0::/pod/ctr\n", tree.root()) == 536870912U);
  tree.Write("/pod/ctr/memory.max", "268435456");
  CHECK(CgroupMemoryLimit("0::/pod/ctr\n", tree.root()) == 268435456U);
  // Inside a cgroup namespace the container's own cgroup is "/".
  CgroupTree own;
  own.Write("/memory.max", "134217728");
  CHECK(CgroupMemoryLimit("0::/\n", own.root()) == 134217728U);
}

TEST_CASE("pbkdf memory: no limit, nothing readable, or a malformed file is no limit") {
  CgroupTree tree;
  tree.Write("/memory.max", "max");
  CHECK_FALSE(CgroupMemoryLimit("0::/\n", tree.root()).has_value());
  CHECK_FALSE(CgroupMemoryLimit("0::/not/there\n", tree.root()).has_value());
  CHECK_FALSE(CgroupMemoryLimit("", tree.root()).has_value());
  CHECK_FALSE(CgroupMemoryLimit("garbage\n", tree.root()).has_value());
  tree.Write("/x/memory.max", "12abc");
  CHECK_FALSE(CgroupMemoryLimit("0::/x\n", tree.root()).has_value());
}

TEST_CASE("pbkdf memory: cgroup v1's memory controller, also listed with others") {
  CgroupTree tree;
  tree.Write("/memory/memory.limit_in_bytes", "9223372036854771712");  // v1's "no limit"
  tree.Write("/memory/docker/abc/memory.limit_in_bytes", "1073741824");
  const std::string self = "12:cpuset:/docker/abc\n4:memory:/docker/abc\n1:name=systemd:/docker/abc\n";
  CHECK(CgroupMemoryLimit(self, tree.root()) == 1073741824U);
  CHECK(CgroupMemoryLimit("4:cpu,memory:/docker/abc\n", tree.root()) == 1073741824U);
  CHECK_FALSE(CgroupMemoryLimit("4:memory:/\n", tree.root()).has_value());
}

TEST_CASE("pbkdf memory: argon2 takes at most half the limit, and never less than 32 KiB") {
  CHECK(ArgonMemoryWithin(1048576, std::nullopt) == 1048576U);
  CHECK(ArgonMemoryWithin(1048576, 4ULL << 30) == 1048576U);             // 4 GiB: room for 1 GiB
  CHECK(ArgonMemoryWithin(1048576, 512ULL << 20) == 262144U);            // 512 MiB: 256 MiB
  CHECK(ArgonMemoryWithin(65536, 512ULL << 20) == 65536U);               // already below
  CHECK(ArgonMemoryWithin(1048576, 16384) == 32U);                       // absurdly low limit
}
