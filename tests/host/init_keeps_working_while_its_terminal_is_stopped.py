"""`tazpod init` on a real PTY whose output is stopped (Ctrl+S, as typed in
`docker run -it`): its log lines cannot be written, yet init goes on
forwarding signals, and the lines come out, whole and in order, once the
output is resumed (Ctrl+Q), with no further event. Stopped again, a
`docker stop` still ends init: it gives up the lines it cannot write after
a bounded wait rather than hang. Before, init blocked in write(2) on its
first line: signals sent meanwhile merged, and a stop never ended."""
import os
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, children, eventually, main  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
CTRL_S, CTRL_Q = b"\x13", b"\x11"


def count(path):
    with open(path) as f:
        return f.read().count("usr1")


def test():
    fd, got = tempfile.mkstemp(prefix="tazpod-stopped-terminal-")
    os.close(fd)
    # The main child counts each SIGUSR1 it gets in a file, not on the
    # terminal, whose output is stopped. At debug level the loop forwards
    # each signal and logs a line for it.
    script = 'trap "echo usr1 >> %s" USR1; echo READY; while :; do sleep 0.05; done' % got
    child = PtyChild(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", TAZPOD, "init",
                      "--log-level", "debug", "--", "bash", "-c", script])
    try:
        child.expect(r"init\.child\.start")
        child.expect("READY")
        check(eventually(lambda: len(children(child.pid)) == 1), "no init under unshare")
        init = children(child.pid)[0]

        child.send(CTRL_S)
        time.sleep(0.5)  # the line discipline takes the key; no output can be seen to stop
        for n in range(1, 4):
            os.kill(init, signal.SIGUSR1)
            # Each reaches the child before the next is sent: none merge.
            check(eventually(lambda: count(got) == n),
                  "signal %d was not forwarded while the terminal was stopped (the child got %d)" % (n, count(got)))
        check(b"init.signal.forward" not in child.output, "lines came out while the output was stopped")

        child.send(CTRL_Q)
        for n in range(3):
            child.expect(r"debug init\.signal\.forward signal=SIGUSR1[^\n]*\n")
        check(b"log.dropped" not in child.output, "lines were dropped: %r" % child.output)

        child.send(CTRL_S)
        time.sleep(0.5)
        os.kill(init, signal.SIGTERM)
        code = child.wait(timeout=20)
        check(code == 128 + signal.SIGTERM, "init exited %d, expected 143 (its child's SIGTERM)" % code)
    finally:
        child.kill()
        os.unlink(got)


main(test)
