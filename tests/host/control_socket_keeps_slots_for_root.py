"""The workstation user cannot shut root out of the control socket: with
every connection the user may hold taken (silent ones here; logins queued
behind a slow unlock hold theirs the same way), the user's next one is
refused, and root's `tazpod health` (Docker's HEALTHCHECK) is still
answered. Before, the user could take all 32 slots."""
import faulthandler
import os
import pwd
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, eventually, main  # noqa: E402
from control_holder import HeldConnections, serving, start_init  # noqa: E402

TAZPOD = os.environ["TAZPOD"]


def test():
    nobody = pwd.getpwnam("nobody")
    init, sock_path, log = start_init(TAZPOD, tempfile.mkdtemp(), nobody)
    try:
        check(eventually(lambda: serving(sock_path), seconds=5), "init's control sockets take no connections")
        with HeldConnections(nobody, sock_path) as holder:
            check(holder.held == 24,
                  "the workstation user holds %d connections, expected 24 (32 less 8 kept for root)" % holder.held)
            # Told why, and that nothing was done: not a connection lost
            # after its request was written.
            check(holder.refusal is not None and holder.refusal.get("ok") is False
                  and "too many connections" in holder.refusal.get("error", "")
                  and "nothing was done" in holder.refusal.get("error", ""),
                  "the user's 25th connection was answered %r" % holder.refusal)
            health = subprocess.run([TAZPOD, "health", "--socket", sock_path, "--timeout", "3"],
                                    capture_output=True, text=True)
            check(health.returncode == 0 and health.stdout.startswith("healthy"),
                  "root's health check with the user's connections all taken: exit %d %r %r"
                  % (health.returncode, health.stdout, health.stderr))
        log.seek(0)
        check("too_many_connections" in log.read(), "the user's refused connections were not logged")
    finally:
        init.kill()
        init.wait()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
