#include "vault/vault_state.h"

#include <catch2/catch_test_macros.hpp>
#include <map>
#include <set>
#include <utility>

using tazpod::vault::Name;
using tazpod::vault::NextState;
using tazpod::vault::VaultEvent;
using tazpod::vault::VaultState;
using S = VaultState;
using E = VaultEvent;

namespace {

const S kAllStates[] = {S::kAbsent, S::kUnlocking, S::kUnlocked,
                        S::kLocking, S::kLocked, S::kFailed};
const E kAllEvents[] = {E::kUnlockBegin, E::kUnlockDone, E::kUnlockRefused, E::kUnlockFailed,
                        E::kLockBegin, E::kLockDone, E::kLockFailed, E::kFoundNoImage,
                        E::kCreateRefused};

// The design's transition table (docs/vault.md), written out independently
// of the implementation. Every pair not listed must be refused.
const std::map<std::pair<S, E>, S> kAllowed = {
    {{S::kAbsent, E::kUnlockBegin}, S::kUnlocking},
    {{S::kLocked, E::kUnlockBegin}, S::kUnlocking},
    {{S::kUnlocking, E::kUnlockDone}, S::kUnlocked},
    {{S::kUnlocking, E::kUnlockRefused}, S::kLocked},
    {{S::kUnlocking, E::kUnlockFailed}, S::kFailed},
    {{S::kUnlocked, E::kLockBegin}, S::kLocking},
    {{S::kLocking, E::kLockDone}, S::kLocked},
    {{S::kLocking, E::kLockFailed}, S::kFailed},
    {{S::kFailed, E::kUnlockBegin}, S::kUnlocking},
    {{S::kFailed, E::kLockBegin}, S::kLocking},
    {{S::kUnlocking, E::kFoundNoImage}, S::kAbsent},
    {{S::kLocking, E::kFoundNoImage}, S::kAbsent},
    {{S::kUnlocking, E::kCreateRefused}, S::kAbsent},
};

}  // namespace

TEST_CASE("vault state machine: every (state, event) pair matches the design table") {
  int allowed = 0;
  for (S state : kAllStates) {
    for (E event : kAllEvents) {
      INFO("state=" << Name(state) << " event=" << Name(event));
      auto next = NextState(state, event);
      auto it = kAllowed.find({state, event});
      if (it == kAllowed.end()) {
        CHECK_FALSE(next.has_value());
      } else {
        REQUIRE(next.has_value());
        CHECK(*next == it->second);
        ++allowed;
      }
    }
  }
  CHECK(allowed == static_cast<int>(kAllowed.size()));
}

TEST_CASE("vault state machine: no second operation starts while one runs") {
  for (S busy : {S::kUnlocking, S::kLocking}) {
    CHECK_FALSE(NextState(busy, E::kUnlockBegin).has_value());
    CHECK_FALSE(NextState(busy, E::kLockBegin).has_value());
  }
}

TEST_CASE("vault state machine: a refused passphrase leaves the vault locked") {
  auto unlocking = NextState(S::kLocked, E::kUnlockBegin);
  REQUIRE(unlocking == S::kUnlocking);
  CHECK(NextState(*unlocking, E::kUnlockRefused) == S::kLocked);
}

TEST_CASE("vault state machine: a failed lock can be finished by the next lock") {
  auto failed = NextState(S::kLocking, E::kLockFailed);
  REQUIRE(failed == S::kFailed);
  auto locking = NextState(*failed, E::kLockBegin);
  REQUIRE(locking == S::kLocking);
  CHECK(NextState(*locking, E::kLockDone) == S::kLocked);
}

TEST_CASE("vault state machine: what a failed first unlock left is absent again, by unlock or by lock") {
  for (E begin : {E::kUnlockBegin, E::kLockBegin}) {
    INFO("event=" << Name(begin));
    auto running = NextState(S::kFailed, begin);
    REQUIRE(running.has_value());
    CHECK(NextState(*running, E::kFoundNoImage) == S::kAbsent);
  }
  // Never from a state that is not running an operation.
  for (S idle : {S::kAbsent, S::kLocked, S::kUnlocked, S::kFailed})
    CHECK_FALSE(NextState(idle, E::kFoundNoImage).has_value());
}

TEST_CASE("vault state machine: names are unique and stable") {
  std::set<std::string_view> names;
  for (S state : kAllStates) names.insert(Name(state));
  CHECK(names.size() == std::size(kAllStates));
  CHECK(Name(S::kUnlocked) == "unlocked");
  CHECK(Name(E::kLockFailed) == "lock_failed");
  CHECK(Name(E::kFoundNoImage) == "found_no_image");
}
