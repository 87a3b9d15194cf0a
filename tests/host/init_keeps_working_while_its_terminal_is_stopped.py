"""`tazpod init` on a real PTY whose output is stopped (Ctrl+S, as typed in
`docker run -it`): its log lines cannot be written, yet init goes on
forwarding signals, and the lines come out, whole and in order, once the
output is resumed (Ctrl+Q), with no further event. Stopped again, a
`docker stop` still ends init: it gives up the lines it cannot write after
a bounded wait rather than hang. Before, init blocked in write(2) on its
first line: signals sent meanwhile merged, and a stop never ended."""
import os
import select
import signal
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, children, eventually, main  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
CTRL_S, CTRL_Q = b"\x13", b"\x11"


def count(path):
    with open(path) as f:
        return f.read().count("usr1")


def output_stopped(pid):
    """Whether the terminal of process `pid` takes no output now: a stopped
    pseudo-terminal has no room to write, so poll() reports no POLLOUT."""
    slave = os.open(os.readlink("/proc/%d/fd/2" % pid), os.O_WRONLY | os.O_NOCTTY | os.O_NONBLOCK)
    try:
        p = select.poll()
        p.register(slave, select.POLLOUT)
        return not p.poll(0)
    finally:
        os.close(slave)


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
        # The child may print before or after init logs its start: wait for both.
        child.expect(r"(?s)READY.*init\.child\.start[^\n]*\n|init\.child\.start.*READY")
        check(eventually(lambda: len(children(child.pid)) == 1), "no init under unshare")
        init = children(child.pid)[0]

        child.send(CTRL_S)
        check(eventually(lambda: output_stopped(init)), "Ctrl+S did not stop the terminal's output")
        for n in range(1, 4):
            os.kill(init, signal.SIGUSR1)
            # Each reaches the child before the next is sent: none merge.
            check(eventually(lambda: count(got) == n),
                  "signal %d was not forwarded while the terminal was stopped (the child got %d)" % (n, count(got)))
        child.drain(0.3)
        check(b"init.signal.forward" not in child.output, "lines came out while the output was stopped")

        child.send(CTRL_Q)
        for _ in range(3):
            child.expect(r"debug init\.signal\.forward signal=SIGUSR1[^\n]*\n")
        child.drain(0.3)  # a log.dropped line would come after the lines that waited
        check(b"log.dropped" not in child.output, "lines were dropped: %r" % child.output)

        child.send(CTRL_S)
        check(eventually(lambda: output_stopped(init)), "Ctrl+S did not stop the terminal's output")
        os.kill(init, signal.SIGTERM)
        code = child.wait(timeout=20)
        check(code == 128 + signal.SIGTERM, "init exited %d, expected 143 (its child's SIGTERM)" % code)
    finally:
        child.kill()
        os.unlink(got)


main(test)
