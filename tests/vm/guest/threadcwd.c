/* threadcwd: holds a directory only through the working directory of a
 * thread of its own, after its main thread has exited, for the vault's
 * lock scenarios. Test-only; never part of an image.
 *
 *   threadcwd DIR
 *
 * A second thread takes a file-system context of its own (unshare
 * CLONE_FS), changes into DIR and says "thread in DIR" on stderr; the main
 * thread, working in "/", then exits alone (pthread_exit). /proc/PID then
 * shows the exited main thread: no working directory, no descriptors, no
 * mappings, no mounts. Only /proc/PID/task/TID shows what holds DIR. The
 * process sleeps until a signal ends it. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *dir;
static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready_cond = PTHREAD_COND_INITIALIZER;
static int ready;

static void *hold(void *unused) {
  (void)unused;
  if (unshare(CLONE_FS) != 0 || chdir(dir) != 0) {
    perror("threadcwd: unshare(CLONE_FS), chdir");
    exit(1);
  }
  pthread_mutex_lock(&ready_lock);
  ready = 1;
  pthread_cond_signal(&ready_cond);
  pthread_mutex_unlock(&ready_lock);
  for (;;) pause();
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: threadcwd DIR\n");
    return 64;
  }
  dir = argv[1];
  if (chdir("/") != 0) {
    perror("threadcwd: chdir /");
    return 1;
  }
  pthread_t thread;
  if (pthread_create(&thread, NULL, hold, NULL) != 0) {
    fprintf(stderr, "threadcwd: pthread_create failed\n");
    return 1;
  }
  pthread_mutex_lock(&ready_lock);
  while (!ready) pthread_cond_wait(&ready_cond, &ready_lock);
  pthread_mutex_unlock(&ready_lock);
  fprintf(stderr, "thread in %s\n", dir);
  pthread_exit(NULL);
}
