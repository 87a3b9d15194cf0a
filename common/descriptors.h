// Descriptors above stderr, all at once: for a process about to exec a
// program that must inherit nothing but stdin, stdout and stderr, and for
// PID 1 dropping what its parent left open. Async-signal-safe (usable between
// fork and exec). And how many are left.
#pragma once

namespace tazpod {

// Whether `newest`, a descriptor just opened, leaves fewer than `kept_free`
// numbers under RLIMIT_NOFILE above it. The kernel hands out the lowest
// free number, so all below `newest` are in use; those above it may be in
// use too (opened before a lower one was closed), and are counted as free:
// a bound that errs towards "enough" by as many descriptors as lie above
// `newest`, which only a scan of /proc/self/fd counts (DescriptorsLeft).
// Cheap: for a process that pins others with pidfds, one at a time, and
// must keep some free to go on reading /proc; its callers bound their own
// use besides (connections, processes).
bool LeavesFewerThan(int newest, unsigned long kept_free);

// How many descriptors this process has open, from /proc/self/fd; -1
// when that cannot be read. For counting what LeavesFewerThan cannot: the
// descriptors that lie above the lowest free number.
int CountOpenDescriptors();

// How many more descriptors this process can open under RLIMIT_NOFILE
// (LONG_MAX with no limit): the limit less those open, counted; 0 when not
// even the directory to count them with can be opened (EMFILE, ENFILE).
// Without /proc, every number up to `newest`, a descriptor just opened, is
// taken to be in use, and none above it, as LeavesFewerThan does. A scan
// of /proc per call: for admitting a connection, not for pinning each of
// thousands of processes.
long DescriptorsLeft(int newest);

// Marks every descriptor from 3 up close-on-exec.
void CloseOnExecAboveStderr();

// Closes every descriptor from 3 up.
void CloseAboveStderr();

// Opens /dev/null on whichever of stdin, stdout and stderr is closed. A
// process started without one would otherwise hand that number to the next
// file it opens: a pipe or socket would then receive what is written to
// stderr, or be taken for stdin by a child. Returns false if one stays
// closed.
bool OpenMissingStandardDescriptors();

}  // namespace tazpod
