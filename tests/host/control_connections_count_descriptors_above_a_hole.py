"""The workstation user's control connections must leave 64 of PID 1's
descriptors free however the numbers lie. Under `RLIMIT_NOFILE` at 100:
the user fills its connections up to that floor, root then holds 12 (which
the floor does not hold back) on the numbers above them, and the user
closes its own. Its next connections get the low numbers it left, with
root's open above them. Init already holds more than the limit less 64,
so those connections must be refused (`control.refused
reason=too_few_descriptors`). Before, the floor was reckoned from the new
connection's number alone, blind to root's above it, and the user took
every hole back."""
import faulthandler
import os
import pwd
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, children, eventually, main, open_descriptors  # noqa: E402
from control_holder import HeldConnections, serving, start_init  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
LIMIT = 100
KEPT_FREE = 64
ROOTS = 12


def settled_descriptors(pid):
    """How many descriptors `pid` holds, once two counts 0.1 s apart agree."""
    last = open_descriptors(pid)
    for _ in range(50):
        time.sleep(0.1)
        now = open_descriptors(pid)
        if now == last:
            return now
        last = now
    raise AssertionError("init's descriptors never settled: %d" % last)


def test():
    nobody = pwd.getpwnam("nobody")
    root = pwd.getpwuid(0)
    init, sock_path, log = start_init(TAZPOD, tempfile.mkdtemp(), nobody,
                                      wrapper=["prlimit", "--nofile=%d:%d" % (LIMIT, LIMIT)])
    try:
        check(eventually(lambda: serving(sock_path)), "init serves no control socket")
        pid1 = children(init.pid)[0]  # init, as seen from here (unshare's child)
        at_start = settled_descriptors(pid1)  # serving()'s own connections closed
        # PID 1 drops a connection silent for 5 s: root's must stay until
        # the user's second round is counted, about 1.5 s after they open.
        with HeldConnections(nobody, sock_path) as first:
            check(first.held > 0, "the user holds no connection under a limit of %d" % LIMIT)
            # Three each with the peer's pidfd (Linux 6.5), else two.
            each = (open_descriptors(pid1) - at_start) // first.held
            roots = HeldConnections(root, sock_path, count=ROOTS)
            with_both = open_descriptors(pid1)
        with roots:
            check(roots.held == ROOTS, "root holds %d of %d connections" % (roots.held, ROOTS))
            # PID 1 has seen the user's connections close: their numbers
            # are free, below root's.
            check(eventually(lambda: open_descriptors(pid1) <= with_both - each * first.held, seconds=3),
                  "init still holds %d descriptors after the user closed %d connections"
                  % (open_descriptors(pid1), first.held))
            before = open_descriptors(pid1)
            log.seek(0)
            refused_before = log.read().count("reason=too_few_descriptors")
            with HeldConnections(nobody, sock_path) as second:
                after = open_descriptors(pid1)
                print("the user held %d connections, root holds %d; init holds %d descriptors of %d, "
                      "then %d with the user's %d new ones" % (first.held, roots.held, before, LIMIT, after,
                                                               second.held))
                check(before > LIMIT - KEPT_FREE, "root's connections left init %d descriptors: no test" % before)
                check(second.held == 0 and after <= before,
                      "with init at %d of %d descriptors, the user took %d more connections (%d descriptors)"
                      % (before, LIMIT, second.held, after))
                check(second.refusal is not None and "file descriptors" in second.refusal.get("error", ""),
                      "the user's refused connection was answered %r" % second.refusal)
                log.seek(0)
                check(log.read().count("reason=too_few_descriptors") > refused_before,
                      "the user's refused connections were not logged as too_few_descriptors")
    finally:
        init.kill()
        init.wait()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
