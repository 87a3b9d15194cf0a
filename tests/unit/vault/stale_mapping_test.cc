#include "vault/stale_mapping.h"

#include <catch2/catch_test_macros.hpp>

using tazpod::vault::ProcDevicesListDeviceMapper;

// A kernel without device-mapper has no mapping a failed query could hide:
// only then does a lock or a recovery take "cannot ask" for "none there".
TEST_CASE("/proc/devices names device-mapper only by its block major's line") {
  CHECK(ProcDevicesListDeviceMapper("Character devices:\n  1 mem\n 10 misc\n\nBlock devices:\n  7 loop\n"
                                    "253 device-mapper\n254 mdp\n"));
  CHECK(ProcDevicesListDeviceMapper("Block devices:\n254 device-mapper"));  // no newline at the end
  CHECK_FALSE(ProcDevicesListDeviceMapper("Character devices:\n 10 misc\n\nBlock devices:\n  7 loop\n259 blkext\n"));
  CHECK_FALSE(ProcDevicesListDeviceMapper(""));
  CHECK_FALSE(ProcDevicesListDeviceMapper("device-mapper\n"));          // not a "MAJOR name" line
  CHECK_FALSE(ProcDevicesListDeviceMapper("253 device-mapper-x\n"));    // another name
}
