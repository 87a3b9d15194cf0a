"""Init's stderr is a stream socket that nobody reads (systemd's journal
stream while journald is stalled), full before init's first line, and
blocking, as a service's stderr is. Init still starts its child and
forwards every signal; once the socket is drained its lines come out whole
and in order, with no further event; and a stop still ends it. Before,
init blocked in write(2) on its first line: a socket cannot be opened
again non-blocking as a pipe is; and the socket's open file description,
shared with the main child, is left blocking. The pipe:
init_keeps_working_while_its_log_pipe_is_full."""
import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, children, eventually, main  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
work = tempfile.mkdtemp()
got = os.path.join(work, "got")


def fill(sock):
    """Sends until the socket takes no more; how many bytes it took."""
    sock.setblocking(False)
    sent = 0
    try:
        while True:
            sent += sock.send(b"." * 4096)
    except BlockingIOError:
        pass
    sock.setblocking(True)
    return sent


def drain(sock, seconds):
    """Everything the socket holds, and what comes within `seconds` more."""
    sock.settimeout(seconds)
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except (TimeoutError, socket.timeout):
        pass
    return data


def signals_got():
    if not os.path.exists(got):
        return 0
    with open(got) as f:
        return f.read().count("SIGUSR1")


def test():
    recorder = os.path.join(work, "recorder")
    with open(recorder, "w") as f:
        f.write('#!/bin/sh\ntrap \'echo SIGUSR1 >> "$1"\' USR1\n: > "$1.ready"\n'
                'while :; do sleep 1 & wait; done\n')
    os.chmod(recorder, 0o755)
    stderr_end, reader = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    filled = fill(stderr_end)
    # At debug level the loop forwards each signal, and logs a line for it.
    init = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", TAZPOD, "init",
                             "--log-level", "debug", "--", recorder, got], stderr=stderr_end.fileno())
    try:
        check(eventually(lambda: os.path.exists(got + ".ready")), "the main child did not start")
        pid1 = children(init.pid)[0]
        for n in (1, 2, 3):
            os.kill(pid1, signal.SIGUSR1)
            check(eventually(lambda: signals_got() >= n), "signal %d did not reach the child" % n)
        check(signals_got() == 3, "signals the child got: %d" % signals_got())

        # Drained: the lines that waited come out, with no further event.
        data = drain(reader, 2)
        check(data[:filled] == b"." * filled, "the filler did not come out first")
        lines = data[filled:].decode().splitlines()
        check(any(re.search(r" info init\.start ", line) for line in lines),
              "init.start did not come out once drained: %r" % lines)
        forwards = [line for line in lines if re.search(r" debug init\.signal\.forward signal=SIGUSR1 ", line)]
        check(len(forwards) == 3, "forward lines once drained: %r" % lines)
        whole = re.compile(r"^[0-9T:.-]+Z (debug|info|warn|error) [a-z_.]+( |$)")
        check(all(whole.match(line) for line in lines), "lines that are not whole log lines: %r" % lines)
        check(not any("log.dropped" in line for line in lines), "lines were dropped: %r" % lines)
        # The socket's description is the main child's stderr too: it must
        # still block. (Asio makes a descriptor it waits on non-blocking.)
        check(fcntl.fcntl(stderr_end.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK == 0,
              "init left the main child's stderr non-blocking")

        # Full again, then a stop: init ends all the same (its last lines
        # are given up after a bounded wait), with the child's status.
        fill(stderr_end)
        os.kill(pid1, signal.SIGTERM)
        start = time.monotonic()
        code = init.wait(timeout=30)
        check(code == 143, "init's exit status after SIGTERM: %d (the child's, 128+15, expected)" % code)
        check(time.monotonic() - start < 20, "init took %.1f s to stop" % (time.monotonic() - start))
    finally:
        if init.poll() is None:
            init.kill()
            init.wait(timeout=30)
        stderr_end.close()
        reader.close()


main(test)
