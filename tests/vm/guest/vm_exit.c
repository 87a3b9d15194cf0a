/* vm-exit: ends the test guest with a status that qemu passes on.
 *
 * QEMU's isa-debug-exit device (iobase 0xf4) terminates qemu when a byte is
 * written to its port, with exit status (byte << 1) | 1. The guest kernel has
 * no /dev/port, so this program writes the byte with outb(). Only for the
 * test guest: it is never part of an image. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>
#include <unistd.h>

enum { kDebugExitPort = 0xf4 };

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: vm-exit CODE (0-127)\n");
    return 2;
  }
  long code = strtol(argv[1], NULL, 10);
  if (code < 0 || code > 127) {
    fprintf(stderr, "vm-exit: code out of range: %s\n", argv[1]);
    return 2;
  }
  sync();
  if (ioperm(kDebugExitPort, 1, 1) != 0) {
    perror("vm-exit: ioperm");
    return 1;
  }
  outb((unsigned char)code, kDebugExitPort);
  /* Only reached when the device is absent (e.g. a hand-started guest). */
  fprintf(stderr, "vm-exit: no isa-debug-exit device\n");
  return 1;
}
