#include "init/sanitizer_exit.h"

#include <signal.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

namespace tazpod::init {

#if defined(__SANITIZE_ADDRESS__)
namespace {
void ExitAsIfAborted() { _exit(128 + SIGABRT); }
}  // namespace

void ExitOnSanitizerReport() { __sanitizer_set_death_callback(ExitAsIfAborted); }
#else
void ExitOnSanitizerReport() {}
#endif

}  // namespace tazpod::init
