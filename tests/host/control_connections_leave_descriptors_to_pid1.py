"""Under a low descriptor limit, the workstation user's control
connections must not take the descriptors PID 1's other work needs. Each
holds three (socket, deadline timerfd, peer pidfd), so the 24 the user
may hold would take 72: with `RLIMIT_NOFILE` at 100, the user's next
connection is refused once one more would leave fewer than 64 free
(`control.refused reason=too_few_descriptors`), init then holds no more
than the limit less those 64, and root's `tazpod health` (Docker's
HEALTHCHECK), which the floor does not hold back, is still answered.
Before, the user held all 24, and init 89 of its 100 descriptors."""
import faulthandler
import os
import pwd
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, children, eventually, main, open_descriptors  # noqa: E402
from control_holder import HeldConnections, serving, start_init  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
LIMIT = 100
KEPT_FREE = 64


def test():
    nobody = pwd.getpwnam("nobody")
    init, sock_path, log = start_init(TAZPOD, tempfile.mkdtemp(), nobody,
                                      wrapper=["prlimit", "--nofile=%d:%d" % (LIMIT, LIMIT)])
    try:
        check(eventually(lambda: serving(sock_path)), "init's control sockets take no connections")
        pid1 = children(init.pid)[0]  # init, as seen from here (unshare's child)
        at_start = open_descriptors(pid1)
        with HeldConnections(nobody, sock_path) as holder:
            in_init = open_descriptors(pid1)
            print("the user holds %d connections; init holds %d descriptors (%d at start) of %d"
                  % (holder.held, in_init, at_start, LIMIT))
            check(0 < holder.held < 24,
                  "the workstation user holds %d connections under a limit of %d" % (holder.held, LIMIT))
            check(in_init <= LIMIT - KEPT_FREE, "init holds %d descriptors of %d with the user's %d connections"
                  % (in_init, LIMIT, holder.held))
            log.seek(0)
            check("reason=too_few_descriptors" in log.read(), "the user's refused connections were not logged so")
            # Told why, and that nothing was done: not a connection lost
            # after its request was written.
            check(holder.refusal is not None and holder.refusal.get("ok") is False
                  and "file descriptors" in holder.refusal.get("error", "")
                  and "nothing was done" in holder.refusal.get("error", ""),
                  "a connection turned away for want of descriptors was answered %r" % holder.refusal)
            health = subprocess.run([TAZPOD, "health", "--socket", sock_path, "--timeout", "3"],
                                    capture_output=True, text=True)
            check(health.returncode == 0 and health.stdout.startswith("healthy"),
                  "root's health check with the user at the floor: exit %d %r %r"
                  % (health.returncode, health.stdout, health.stderr))
    finally:
        init.kill()
        init.wait()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
