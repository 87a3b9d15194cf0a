"""A real `tazpod init` whose health port is taken when it starts: the
endpoint is a failed component, said once in the log at error level, and
`tazpod health` says why (exit 1); PID 1 tries to listen again later, and
once the port is free it listens and answers, says so in the log, and is
healthy again. Before, a failed listen was final for the container's life."""
import os
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, eventually, main  # noqa: E402
from health_probe import healthz, start_init  # noqa: E402
from control_holder import serving  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
work = tempfile.mkdtemp()
sock_path = os.path.join(work, "run", "control.sock")


def tazpod_health():
    r = subprocess.run([TAZPOD, "health", "--socket", sock_path], capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout + r.stderr


def test():
    taken = socket.socket()
    taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    init, log_path = start_init(TAZPOD, work, sock_path, port)
    try:
        check(eventually(lambda: serving(sock_path)), "init's control sockets take no connections")
        code, said = tazpod_health()
        check(code == 1 and "Address already in use" in said,
              "tazpod health with the port taken: exit %d, %r" % (code, said))
        # Two tries at least (1 s, then 2 s later), one error line for them.
        time.sleep(3.5)
        with open(log_path) as f:
            text = f.read()
        failed = [l for l in text.splitlines() if "init.component.failed" in l and "component=http" in l]
        check(len(failed) == 1 and " error init.component.failed " in failed[0] and "retry_in_ms=1000" in failed[0],
              "the failed listen was not said once at error level: %r" % failed)

        taken.close()
        check(eventually(lambda: healthz(port) == 200, seconds=15), "the endpoint never listened once its port was free")
        code, said = tazpod_health()
        check(code == 0, "tazpod health once the endpoint listens: exit %d, %r" % (code, said))
        with open(log_path) as f:
            text = f.read()
        recovered = [l for l in text.splitlines() if "init.component.recovered" in l and "component=http" in l]
        check(len(recovered) == 1, "the log does not say the endpoint listens now: %s" % text)
    finally:
        taken.close()
        init.kill()  # unshare --kill-child takes init with it
        init.wait(timeout=30)


main(test)
