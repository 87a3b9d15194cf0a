// stallfs MOUNTPOINT: a FUSE file system of one file, "f", that answers
// until it gets SIGUSR1 and then never again, as a FUSE server that hangs
// (a dead sshfs, a stopped daemon). Every stat of a file on it asks the
// server (attributes are never cached), so once it stalls, a stat waits
// for ever: the vault's search for holders must not.
//
// It mounts and serves until killed; its death (which closes /dev/fuse)
// fails the requests that wait. The caller sees it ready when "f" reads.
// The first FLUSH is answered ENOSYS, so the kernel sends no more: a
// process that closes the file while the server stalls does not wait.
#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static volatile sig_atomic_t stalled;
static void Stall(int sig) { (void)sig; stalled = 1; }

static void Reply(int fd, uint64_t unique, int error, const void* body, size_t size) {
  struct fuse_out_header out = {.len = (uint32_t)(sizeof out + (error ? 0 : size)), .error = -error, .unique = unique};
  struct iovec iov[2] = {{&out, sizeof out}, {(void*)body, error ? 0 : size}};
  if (writev(fd, iov, 2) < 0 && errno != ENOENT) perror("stallfs: writev");
}

static void Attr(uint64_t node, struct fuse_attr* attr) {
  memset(attr, 0, sizeof *attr);
  attr->ino = node;
  attr->mode = node == FUSE_ROOT_ID ? S_IFDIR | 0755 : S_IFREG | 0644;
  attr->nlink = node == FUSE_ROOT_ID ? 2 : 1;
  attr->size = node == FUSE_ROOT_ID ? 0 : 5;
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: stallfs MOUNTPOINT\n");
    return 64;
  }
  int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    perror("stallfs: open /dev/fuse");
    return 1;
  }
  char options[128];
  (void)snprintf(options, sizeof options, "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other", fd);
  if (mount("stallfs", argv[1], "fuse.stallfs", MS_NOSUID | MS_NODEV, options) != 0) {
    perror("stallfs: mount");
    return 1;
  }
  if (signal(SIGUSR1, Stall) == SIG_ERR) {
    perror("stallfs: signal");
    return 1;
  }
  static char buffer[FUSE_MIN_READ_BUFFER + 65536];
  for (;;) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == ENOENT)) continue;
    if (n < 0) {
      if (errno != ENODEV) perror("stallfs: read");
      return errno == ENODEV ? 0 : 1;  // ENODEV: unmounted
    }
    const struct fuse_in_header* in = (const struct fuse_in_header*)buffer;
    const void* arg = buffer + sizeof *in;
    if (stalled && in->opcode != FUSE_FORGET && in->opcode != FUSE_BATCH_FORGET) continue;  // never answered
    switch (in->opcode) {
      case FUSE_INIT: {
        const struct fuse_init_in* init = arg;
        struct fuse_init_out out = {.major = FUSE_KERNEL_VERSION,
                                    .minor = init->minor < FUSE_KERNEL_MINOR_VERSION ? init->minor
                                                                                     : FUSE_KERNEL_MINOR_VERSION,
                                    .max_write = 4096};
        Reply(fd, in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_LOOKUP: {
        if (in->nodeid != FUSE_ROOT_ID || strcmp((const char*)arg, "f") != 0) {
          Reply(fd, in->unique, ENOENT, NULL, 0);
          break;
        }
        struct fuse_entry_out out = {.nodeid = 2, .entry_valid = 3600};
        Attr(2, &out.attr);
        Reply(fd, in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_GETATTR: {
        struct fuse_attr_out out = {0};
        Attr(in->nodeid, &out.attr);
        Reply(fd, in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_OPEN:
      case FUSE_OPENDIR: {
        struct fuse_open_out out = {.fh = 1};
        Reply(fd, in->unique, 0, &out, sizeof out);
        break;
      }
      case FUSE_READ: {
        const struct fuse_read_in* read_in = arg;
        const char text[] = "file\n";
        size_t off = read_in->offset < 5 ? (size_t)read_in->offset : 5;
        size_t len = 5 - off < read_in->size ? 5 - off : read_in->size;
        Reply(fd, in->unique, 0, text + off, len);
        break;
      }
      case FUSE_RELEASE:
      case FUSE_RELEASEDIR:
        Reply(fd, in->unique, 0, NULL, 0);
        break;
      case FUSE_FORGET:
      case FUSE_BATCH_FORGET:
        break;  // no reply
      default:
        Reply(fd, in->unique, ENOSYS, NULL, 0);  // FLUSH among them: not sent again
        break;
    }
  }
}
