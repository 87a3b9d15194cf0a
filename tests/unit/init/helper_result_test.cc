#include "init/helper_result.h"

#include <catch2/catch_test_macros.hpp>

#include <cerrno>

using namespace tazpod::init;

TEST_CASE("fields of a result line are whole space-separated tokens") {
  const std::string line = "result=ok state=unlocked t_start_us=12 xstate=no hooks_failed=2";
  CHECK(ResultField(line, "state") == "unlocked");
  CHECK(ResultField(line, "t_start_us") == "12");
  CHECK(ResultField(line, "hooks_failed") == "2");
  CHECK(ResultField(line, "kind").empty());
  CHECK(ResultField("result=ok state", "state").empty());  // a key at the very end
  CHECK(ResultField("xkind=busy kind=invalid", "kind") == "invalid");
}

TEST_CASE("a result line stands for the helper's exit code") {
  CHECK(ExitCodeOfResult("result=ok state=locked") == 0);
  CHECK(ExitCodeOfResult("result=error kind=wrong_passphrase message=\"x\"") == 2);
  CHECK(ExitCodeOfResult("result=error kind=busy") == 3);
  CHECK(ExitCodeOfResult("result=error kind=invalid") == 4);
  CHECK(ExitCodeOfResult("result=error kind=system") == 1);
  CHECK(ExitCodeOfResult("") == 1);
}

TEST_CASE("an outcome has a kind and a message, whatever the line") {
  VaultOutcome ok = OutcomeOfResult(0, "result=ok state=unlocked hooks_failed=1");
  CHECK(ok.ok);
  CHECK(ok.message.find("hooks_failed=1") != std::string::npos);

  VaultOutcome wrong = OutcomeOfResult(2, "result=error kind=wrong_passphrase step=open message=\"No key\"");
  CHECK_FALSE(wrong.ok);
  CHECK(wrong.kind == "wrong_passphrase");
  CHECK(wrong.message == "No key");
  CHECK(wrong.step == "open");  // where it stopped: PID 1 tells lasting refusals by it
  CHECK(OutcomeOfResult(4, "result=error kind=invalid step=keyslot_memory message=\"x\"").step == "keyslot_memory");
  CHECK(OutcomeOfResult(1, "result=error kind=system message=\"no step\"").step.empty());

  CHECK(OutcomeOfResult(-1, "").message == "the vault helper was killed");
  CHECK(OutcomeOfResult(64, "usage").message == "the vault helper failed (exit 64)");
  CHECK(OutcomeOfResult(1, "result=error kind=system message=\"").kind == "system");
  // A helper that exited 2 without its line: PID 1's line for it says
  // system, and the exit code is not taken for a wrong passphrase.
  CHECK(OutcomeOfResult(2, "result=error kind=system step=helper message=\"exited 2\"").kind == "system");
}

TEST_CASE("a refusal for the image in use, no keyslot or image fitting, or the image size, lasts; others do not") {
  using tazpod::init::IsLastingRefusal;
  CHECK(IsLastingRefusal(OutcomeOfResult(3, "result=error kind=busy step=in_use message=\"held\"")));
  CHECK(IsLastingRefusal(OutcomeOfResult(4, "result=error kind=invalid step=keyslot_memory message=\"x\"")));
  CHECK(IsLastingRefusal(OutcomeOfResult(4, "result=error kind=invalid step=image_memory message=\"x\"")));
  CHECK(IsLastingRefusal(OutcomeOfResult(4, "result=error kind=invalid step=image_size message=\"x\"")));
  CHECK_FALSE(IsLastingRefusal(OutcomeOfResult(4, "result=error kind=invalid step=image message=\"no room\"")));
  CHECK_FALSE(IsLastingRefusal(OutcomeOfResult(2, "result=error kind=wrong_passphrase step=luks.activate message=\"w\"")));
  CHECK_FALSE(IsLastingRefusal(OutcomeOfResult(1, "result=error kind=system step=mount message=\"m\"")));
}

TEST_CASE("only a refusal of the image's memory or size leaves a vault not made") {
  using tazpod::init::IsCreateRefusal;
  CHECK(IsCreateRefusal(OutcomeOfResult(4, "result=error kind=invalid step=image_memory message=\"x\"")));
  CHECK(IsCreateRefusal(OutcomeOfResult(4, "result=error kind=invalid step=image_size message=\"x\"")));
  CHECK_FALSE(IsCreateRefusal(OutcomeOfResult(3, "result=error kind=busy step=in_use message=\"held\"")));
  CHECK_FALSE(IsCreateRefusal(OutcomeOfResult(4, "result=error kind=invalid step=keyslot_memory message=\"x\"")));
  CHECK_FALSE(IsCreateRefusal(OutcomeOfResult(4, "result=error kind=invalid step=image message=\"no room\"")));
}

TEST_CASE("the line for a helper that never started reads back as one, with the errno's text") {
  const std::string line = NeverStartedResult(EAGAIN);
  CHECK(ExitCodeOfResult(line) == 1);
  const VaultOutcome o = OutcomeOfResult(ExitCodeOfResult(line), line);
  CHECK_FALSE(o.ok);
  CHECK(HelperNeverStarted(o));
  CHECK(o.message == "cannot start the vault helper: Resource temporarily unavailable");
  CHECK_FALSE(HelperNeverStarted(OutcomeOfResult(1, "result=error kind=system step=luks.activate message=\"x\"")));
  // PID 1's child that could not enter the vault's namespace never ran the
  // helper either.
  CHECK(HelperNeverStarted(OutcomeOfResult(1, "result=error kind=system step=namespace message=\"x\"")));
  CHECK_FALSE(HelperNeverStarted(OutcomeOfResult(4, "result=error kind=invalid step=spawn message=\"x\"")));
}
