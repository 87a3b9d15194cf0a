#include "init/component_failures.h"

#include <exception>

namespace tazpod::init {

void ComponentFailures::Record(std::string_view component, std::string_view error) noexcept {
  try {
    failed_[std::string(component)] = error;
  } catch (const std::exception&) {
    // Recorded when called from a handler that ran out of memory: the log
    // line, written first, still says what failed.
  }
}

}  // namespace tazpod::init
