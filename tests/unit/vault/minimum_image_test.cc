#include "vault/luks_volume.h"

#include <catch2/catch_test_macros.hpp>
#include <cstdint>

using tazpod::vault::LuksLayout;
using tazpod::vault::MinimumImageBytes;

namespace {
constexpr std::uint64_t kMiB = 1ULL << 20;
}

// The sizes the vm test vault_image_size_out_of_range_is_refused makes a
// vault at, and one byte below (refused), on a real loop device.
TEST_CASE("the smallest image: the LUKS2 header rounded up to a MiB, and two MiB of data") {
  CHECK(MinimumImageBytes(LuksLayout{}) == 18 * kMiB);  // libcryptsetup's 16 MiB header
  CHECK(MinimumImageBytes(LuksLayout{0, 524288}) == 3 * kMiB);  // 32 KiB + 512 KiB
  CHECK(MinimumImageBytes(LuksLayout{0, kMiB - 32 * 1024ULL}) == 3 * kMiB);  // exactly 1 MiB
  CHECK(MinimumImageBytes(LuksLayout{0, kMiB - 28 * 1024ULL}) == 4 * kMiB);  // 4 KiB over
  CHECK(MinimumImageBytes(LuksLayout{65536, 524288}) == 3 * kMiB);
  CHECK(MinimumImageBytes(LuksLayout{4 * kMiB, 0}) == 18 * kMiB);  // keyslots fill the 16 MiB
}
