// `tazpod init`: the container's PID 1.
#pragma once

#include <string>
#include <vector>

#include "init/config.h"

namespace tazpod::init {

struct InitOptions {
  Config config;                     // after file, environment and flags
  std::vector<std::string> command;  // the main child; empty: idle until stopped
};

// Runs init to the end and returns its exit code (docs/init.md).
int RunInit(const InitOptions& options);

}  // namespace tazpod::init
