#include "init/cli.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <string>

#include "version.h"

namespace tazpod::init {

namespace {
constexpr int kExitUsage = 2;
}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"tazpod: PID 1 and passphrase-gated LUKS2 vault for a developer container",
               "tazpod"};
  app.set_version_flag("--version", std::string("tazpod ") + kVersion,
                       "Print the version and exit");
  app.footer("Run `tazpod SUBCOMMAND --help` for the options of one subcommand.");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 reports --help and --version as "errors" with exit code 0.
    if (e.get_exit_code() == 0) return app.exit(e);
    app.exit(e);
    return kExitUsage;
  }

  if (app.get_subcommands().empty()) {
    std::cerr << app.help();
    return kExitUsage;
  }
  return 0;
}

}  // namespace tazpod::init
