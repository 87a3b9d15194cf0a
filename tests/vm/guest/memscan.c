/* memscan: searches the memory of running processes for a byte string, for
 * the secret-hygiene scenarios (the guest has no gdb or Python). Test-only;
 * never part of an image.
 *
 *   memscan NEEDLE_FILE PID...
 *
 * The needle is read from a file, never taken from argv: a needle in argv
 * would itself be a copy in /proc/PID/cmdline, which the scenarios scan.
 * Every readable mapping listed in /proc/PID/maps is read through
 * /proc/PID/mem (root with CAP_SYS_PTRACE may read any process, dumpable or
 * not); a hit is printed as
 *   hit pid=P comm=NAME addr=0x... region=PATH|[heap]|[stack]|anon
 * and each process ends with
 *   scanned pid=P comm=NAME regions=R bytes=B unreadable=U
 * (unreadable: mappings the kernel refused to read, e.g. [vvar]).
 * Exit status: 0 no hit, 1 at least one hit, 2 a process could not be
 * scanned at all (gone, or its maps unreadable): a scan that read nothing
 * must never pass as "no hit". */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { kChunk = 1 << 20 };

static char needle[4096];
static size_t needle_len;
static char chunk[kChunk + sizeof needle];

static void comm_of(const char *pid, char *out, size_t n) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%s/comm", pid);
  FILE *f = fopen(path, "re");
  out[0] = '\0';
  if (f) {
    if (fgets(out, (int)n, f)) out[strcspn(out, "\n")] = '\0';
    (void)fclose(f); /* read only: a failed close loses nothing */
  }
}

/* Skips blanks, then one field; returns what follows it. */
static char *skip_field(char *p) {
  p += strspn(p, " ");
  return p + strcspn(p, " \n");
}

/* Reads a line of /proc/PID/maps, "START-END PERMS OFFSET DEV INODE  NAME",
 * with strtoull, which (unlike sscanf) says when a number is not one.
 * Returns 0 for a line it cannot read. */
static int parse_maps_line(char *line, unsigned long long *start, unsigned long long *end, char **perms,
                           char **name) {
  char *after;
  errno = 0;
  *start = strtoull(line, &after, 16);
  if (after == line || *after != '-') return 0;
  char *at = after + 1;
  *end = strtoull(at, &after, 16);
  if (after == at || *after != ' ' || errno != 0) return 0;
  *perms = after + 1;
  *name = skip_field(skip_field(skip_field(skip_field(*perms)))); /* past PERMS OFFSET DEV INODE */
  *name += strspn(*name, " ");
  return 1;
}

/* Scans one process; returns 0 (no hit), 1 (hit) or 2 (not scanned). */
static int scan(const char *pid) {
  char path[64], comm[64], line[4096];
  comm_of(pid, comm, sizeof comm);
  snprintf(path, sizeof path, "/proc/%s/maps", pid);
  FILE *maps = fopen(path, "re");
  snprintf(path, sizeof path, "/proc/%s/mem", pid);
  int mem = open(path, O_RDONLY | O_CLOEXEC);
  if (!maps || mem < 0) {
    printf("error pid=%s comm=%s cannot open its maps or mem\n", pid, comm);
    if (maps) (void)fclose(maps); /* read only: a failed close loses nothing */
    if (mem >= 0) close(mem);
    return 2;
  }
  int hits = 0;
  long regions = 0, unreadable = 0;
  unsigned long long bytes = 0;
  while (fgets(line, sizeof line, maps)) {
    unsigned long long start, end;
    char *perms, *name;
    if (!parse_maps_line(line, &start, &end, &perms, &name)) continue;
    if (perms[0] != 'r') continue;
    name[strcspn(name, "\n")] = '\0';
    if (!*name) name = "anon";
    ++regions;
    /* Chunks overlap by needle_len - 1 bytes, so a copy that straddles two
     * reads is still found; `carry` is that overlap. */
    size_t carry = 0;
    int readable = 0;
    for (unsigned long long at = start; at < end;) {
      size_t want = end - at < kChunk ? (size_t)(end - at) : kChunk;
      ssize_t got = pread(mem, chunk + carry, want, (off_t)at);
      if (got <= 0) break;
      readable = 1;
      bytes += (unsigned long long)got;
      size_t have = carry + (size_t)got;
      for (char *p = chunk; (p = memmem(p, have - (size_t)(p - chunk), needle, needle_len)); ++p) {
        printf("hit pid=%s comm=%s addr=0x%llx region=%s\n", pid, comm,
               at - carry + (unsigned long long)(p - chunk), name);
        hits = 1;
      }
      carry = have < needle_len - 1 ? have : needle_len - 1;
      memmove(chunk, chunk + have - carry, carry);
      at += (unsigned long long)got;
    }
    if (!readable) ++unreadable;
  }
  (void)fclose(maps); /* read only: a failed close loses nothing */
  close(mem);
  printf("scanned pid=%s comm=%s regions=%ld bytes=%llu unreadable=%ld\n", pid, comm, regions, bytes, unreadable);
  if (bytes == 0) return 2;
  return hits;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: memscan NEEDLE_FILE PID...\n");
    return 64;
  }
  int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
  ssize_t n = fd >= 0 ? read(fd, needle, sizeof needle) : -1;
  if (n <= 0 || (size_t)n == sizeof needle) {
    fprintf(stderr, "memscan: cannot read a needle of 1..%zu bytes from %s\n", sizeof needle - 1, argv[1]);
    return 64;
  }
  close(fd);
  needle_len = (size_t)n;
  int status = 0;
  for (int i = 2; i < argc; ++i) {
    int r = scan(argv[i]);
    if (r > status) status = r;
  }
  return status;
}
