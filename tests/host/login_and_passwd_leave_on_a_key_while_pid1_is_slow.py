"""`tazpod login` and `tazpod passwd` on a real terminal, against a stand-in
PID 1 that holds its answer to gate.status, the question each asks before
its prompt (a busy PID 1 may take seconds). Meanwhile echo is off: a
passphrase typed ahead does not show. Ctrl+C (login) and Ctrl+\\ (passwd)
end the wait at once: each says so and exits 4, as its prompt does for such
a key, instead of dying of the signal with nothing said; nothing more is
asked of PID 1, and the terminal's mode is restored."""
import os
import re
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, echo_on, eventually, main  # noqa: E402
from standin_pid1 import StandIn  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
TYPED_AHEAD = "typed-ahead-s3cret"
STATUS = {"v": 1, "ok": True, "vault": "unlocked", "first_login": False, "min_length": 8, "sessions": 1,
          "retry_after_ms": 0, "change_retry_after_ms": 0}


def slow_pid1():
    """A stand-in PID 1 whose gate.status answer waits for the returned event."""
    pid1 = StandIn()
    pid1.replies["gate.status"] = STATUS
    answer = threading.Event()
    pid1.held["gate.status"] = answer
    return pid1, answer


def wait_for_status_question(pid1, child):
    check(eventually(lambda: "gate.status" in pid1.asked), "it never asked gate.status: %r" % pid1.asked)
    # Well within the client's 10 s wait for the answer.
    check(eventually(lambda: not echo_on(child.pid), 3), "echo is on while it waits for PID 1")
    child.send(TYPED_AHEAD)
    shown = child.drain(0.5)
    check(TYPED_AHEAD.encode() not in shown, "what was typed while it waited was shown: %r" % shown)


def login_leaves_on_ctrl_c():
    pid1, answer = slow_pid1()
    # Under a shell, which reports the exit code and the terminal's mode after.
    shell = PtyChild(["bash", "-c", '"$0" login --socket "$1"; echo "exit=$?"; stty -a', TAZPOD, pid1.path])
    try:
        wait_for_status_question(pid1, shell)
        shell.send("\x03")
        said = shell.expect(r"exit=(\d+)", timeout=5)
        check(said.group(1) == b"4", "login exited %s, not 4; it said %r" % (said.group(1), said.string))
        check(b"tazpod login: interrupted; nothing was done; no shell." in said.string,
              "login did not say it was interrupted: %r" % said.string)
        shell.wait()
        check(re.search(rb"[^-]echo ", shell.output), "echo was not restored: %r" % shell.output)
    finally:
        answer.set()
        shell.kill()
    check(pid1.asked == ["gate.status"], "login asked more of PID 1: %r" % pid1.asked)


def passwd_leaves_on_ctrl_backslash():
    pid1, answer = slow_pid1()
    passwd = PtyChild([TAZPOD, "passwd", "--socket", pid1.path])
    try:
        wait_for_status_question(pid1, passwd)
        passwd.send("\x1c")
        code = passwd.wait(5)
        said = passwd.output
    finally:
        answer.set()
        passwd.kill()
    check(code == 4, "passwd exited %d, not 4; it said %r" % (code, said))
    check(b"tazpod passwd: interrupted; nothing changed." in said, "passwd did not say it was interrupted: %r" % said)
    check(b"Current passphrase" not in said, "passwd went on to its prompt: %r" % said)
    check(pid1.asked == ["gate.status"], "passwd asked more of PID 1: %r" % pid1.asked)


def test():
    login_leaves_on_ctrl_c()
    passwd_leaves_on_ctrl_backslash()


main(test)
