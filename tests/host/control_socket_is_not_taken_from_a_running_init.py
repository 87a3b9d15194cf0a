"""A second `tazpod init` given the same control socket (root running one
under `docker exec` with the default configuration) does not take the
socket from the one serving it: it refuses to listen there and says why,
and the first still answers once the second is gone. Before, the second
unlinked the live socket and bound its own, and once it exited the path
led nowhere: no login, and `tazpod health` unhealthy."""
import faulthandler
import os
import pwd
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, eventually, main  # noqa: E402
from control_holder import start_init  # noqa: E402

TAZPOD = os.environ["TAZPOD"]


def healthy(sock_path):
    health = subprocess.run([TAZPOD, "health", "--socket", sock_path, "--timeout", "3"],
                            capture_output=True, text=True)
    return health.returncode == 0 and health.stdout.startswith("healthy")


def test():
    nobody = pwd.getpwnam("nobody")
    work = tempfile.mkdtemp()
    first, sock_path, first_log = start_init(TAZPOD, work, nobody)
    second = None
    try:
        check(eventually(lambda: healthy(sock_path), seconds=10), "the first init does not answer")
        second_log = open(os.path.join(work, "second.log"), "w+")
        second = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", TAZPOD, "init",
                                   "--config", os.path.join(work, "init.toml"), "--", "sleep", "1000"],
                                  stderr=second_log)

        def second_said():
            second_log.seek(0)
            text = second_log.read()
            return "control.listen" in text or "component=control " in text
        check(eventually(second_said, seconds=10), "the second init said nothing of its control socket")
        second_log.seek(0)
        said = second_log.read()
        check("another process serves " + sock_path in said,
              "the second init did not refuse the socket in use: %r" % said)
        second.kill()
        second.wait()
        second = None
        check(healthy(sock_path), "the first init no longer answers on its socket once the second is gone")
    finally:
        for init in (second, first):
            if init is not None:
                init.kill()
                init.wait()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
