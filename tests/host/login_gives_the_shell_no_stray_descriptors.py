"""The shell `tazpod login` execs gets the terminal and nothing else: a
descriptor the caller left open (above stderr, without close-on-exec) does
not cross into the workstation user's shell. Against a stand-in PID 1 that
accepts the passphrase; the user is root here (the only one whose shell a
host test can drive), which the privilege drop treats like any other."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, main  # noqa: E402
from standin_pid1 import StandIn  # noqa: E402

TAZPOD = os.environ["TAZPOD"]


def test():
    pid1 = StandIn()
    pid1.replies["gate.status"] = {"v": 1, "ok": True, "first_login": False, "min_length": 8}
    pid1.replies["gate.login"] = {"v": 1, "ok": True, "user": "root", "mountpoint": "/nonexistent-vault",
                                  "mount_namespace": False}
    marker = os.path.join(tempfile.mkdtemp(), "left-open-by-the-caller")
    open(marker, "w").close()
    fd = os.open(marker, os.O_RDONLY)
    os.set_inheritable(fd, True)  # as a careless caller leaves it
    check(fd > 2, "the marker took a standard descriptor")
    login = PtyChild([TAZPOD, "login", "--socket", pid1.path],
                     env={"TERM": "dumb", "PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    try:
        login.expect("Vault passphrase: ")
        login.send("a passphrase\r")
        login.expect("Vault open at /nonexistent-vault")
        # The shell is up: list its descriptors, then leave.
        login.send("PS1='$ '; ls -l /proc/$$/fd; echo listed-fds; exit 0\r")
        listing = login.expect(r"listed-fds\r?\n").string.decode(errors="replace")
        code = login.wait()
    finally:
        login.kill()
        os.close(fd)
    check(code == 0, "the shell exited %d; the terminal showed %r" % (code, login.output))
    check("/dev/pts/" in listing, "no terminal among the shell's descriptors: %r" % listing)
    check(marker not in listing, "the caller's descriptor reached the shell: %r" % listing)


main(test)
