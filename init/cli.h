// The `tazpod` command line: one executable, one subcommand per job.
//
// RunCli() parses argv and runs the chosen subcommand. It returns the process
// exit code and never throws: --help and --version exit 0, a usage error
// exits 2 with a message on stderr.
#pragma once

namespace tazpod::init {

int RunCli(int argc, char** argv);

}  // namespace tazpod::init
