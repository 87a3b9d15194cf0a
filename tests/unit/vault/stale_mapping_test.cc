#include "vault/stale_mapping.h"

#include <stdlib.h>

#include <catch2/catch_test_macros.hpp>
#include <filesystem>
#include <fstream>
#include <string>

using tazpod::vault::SysfsListsMapping;

namespace {

// A /sys/block of its own in a temporary directory, removed at the end.
class FakeSysBlock {
 public:
  FakeSysBlock() {
    char name[] = "/tmp/tazpod-sys-block-XXXXXX";
    REQUIRE(mkdtemp(name) != nullptr);
    root_ = name;
  }
  ~FakeSysBlock() { std::filesystem::remove_all(root_); }
  FakeSysBlock(const FakeSysBlock&) = delete;
  FakeSysBlock& operator=(const FakeSysBlock&) = delete;

  // A device `device`; with `dm_name`, a device-mapper one of that name.
  void Add(const std::string& device, const std::string& dm_name = "") {
    std::filesystem::create_directories(root_ + "/" + device);
    if (dm_name.empty()) return;
    std::filesystem::create_directories(root_ + "/" + device + "/dm");
    std::ofstream(root_ + "/" + device + "/dm/name") << dm_name << "\n";
  }
  const std::string& path() const { return root_; }

 private:
  std::string root_;
};

}  // namespace

// Asked only when device-mapper does not answer: a name sysfs does not show
// is nothing to remove; one it shows, or a sysfs that cannot be read, is
// not taken for gone.
TEST_CASE("sysfs shows a device-mapper device by its dm/name, and only that") {
  FakeSysBlock sys;
  sys.Add("loop0");
  sys.Add("sda");
  CHECK_FALSE(SysfsListsMapping(sys.path(), "tazpod-vault"));  // no device-mapper device at all
  sys.Add("dm-0", "other-vault");
  CHECK_FALSE(SysfsListsMapping(sys.path(), "tazpod-vault"));
  CHECK_FALSE(SysfsListsMapping(sys.path(), "tazpod"));  // a prefix of no name
  sys.Add("dm-3", "tazpod-vault");
  CHECK(SysfsListsMapping(sys.path(), "tazpod-vault"));
  CHECK_FALSE(SysfsListsMapping(sys.path(), "tazpod-vault-2"));
  CHECK(SysfsListsMapping(sys.path() + "/missing", "tazpod-vault"));  // cannot tell
}
