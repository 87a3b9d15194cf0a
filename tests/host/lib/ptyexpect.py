"""A small expect for host tests: a child on a real PTY, typed into and read.

Only the standard library: the host tier must run on a bare Debian with
python3, and so must the tests that type into a real terminal.
"""
import os
import pty
import re
import select
import signal
import sys
import termios
import time


class Fail(Exception):
    pass


class PtyChild:
    """Runs argv on a new PTY as the session leader with it as its
    controlling terminal, as `docker exec -it` does."""

    def __init__(self, argv, env=None):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            try:
                os.execvpe(argv[0], argv, env if env is not None else os.environ)
            finally:
                os._exit(127)
        self.output = b""      # read since the last successful expect
        self.transcript = b""  # everything read
        self.status = None

    def send(self, data):
        os.write(self.fd, data.encode() if isinstance(data, str) else data)

    def expect(self, pattern, timeout=10.0):
        """Waits until everything read so far matches `pattern` (a regex, on
        the output since the last successful expect); returns the match."""
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.output)
            if m:
                self.output = self.output[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("timed out waiting for %r; terminal showed:\n%s"
                           % (pattern, self.output.decode(errors="replace")))
            r, _, _ = select.select([self.fd], [], [], left)
            if r:
                try:
                    chunk = os.read(self.fd, 4096)
                except OSError:  # EIO: the other side closed
                    chunk = b""
                if not chunk:
                    m = regex.search(self.output)
                    if m:
                        return m
                    raise Fail("terminal closed while waiting for %r; it showed:\n%s"
                               % (pattern, self.output.decode(errors="replace")))
                self.output += chunk
                self.transcript += chunk

    def hang_up(self):
        """Closes our side of the terminal: the child's terminal hangs up."""
        os.close(self.fd)
        self.fd = None

    def drain(self, seconds=0.2):
        if self.fd is None:
            time.sleep(seconds)
            return self.output
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            r, _, _ = select.select([self.fd], [], [], max(0, end - time.monotonic()))
            if not r:
                break
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            self.output += chunk
            self.transcript += chunk
        return self.output

    def wait(self, timeout=10.0):
        """Waits for the child; returns its exit code (128+N if killed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.drain(0.05)
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid == self.pid:
                self.status = status
                return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)
        raise Fail("child %d did not exit within %ss; terminal showed:\n%s"
                   % (self.pid, timeout, self.output.decode(errors="replace")))

    def kill(self):
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


def proc_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def echo_on(pid):
    """Whether the terminal of process `pid` (its stdin) echoes."""
    slave = os.open(os.readlink("/proc/%d/fd/0" % pid), os.O_RDWR | os.O_NOCTTY)
    try:
        return bool(termios.tcgetattr(slave)[3] & termios.ECHO)
    finally:
        os.close(slave)


def open_descriptors(pid):
    """How many descriptors process `pid` holds open."""
    return len(os.listdir("/proc/%d/fd" % pid))


def eventually(condition, seconds=10.0):
    """Polls `condition` until it holds or `seconds` pass: a loaded machine
    may take a while to start, stop or end a process, and no sleep is long enough."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def check(cond, message):
    if not cond:
        raise Fail(message)


def main(test):
    """Runs test() and turns Fail into a clear message and exit status 1."""
    try:
        test()
    except Fail as e:
        print("FAIL: %s" % e, file=sys.stderr)
        sys.exit(1)
    print("ok")
