#pragma once

namespace tazpod::init {

// For the sanitize test tier only; does nothing in any other build.
//
// A sanitizer report ends its process with abort() (the tier's
// abort_on_error=1). PID 1 of a PID namespace cannot die of a signal it
// sends itself, since the kernel drops it, and the sanitizer's runtime then
// spins for ever in its second attempt to die: the test times out and
// shows no report. Called by PID 1, this makes a report end it with
// _exit(134), the status of a death by SIGABRT, so the report is seen.
void ExitOnSanitizerReport();

}  // namespace tazpod::init
