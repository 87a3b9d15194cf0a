// tazpod: the container's PID 1 and the client commands that talk to it.
#include "init/cli.h"

int main(int argc, char** argv) { return tazpod::init::RunCli(argc, argv); }
