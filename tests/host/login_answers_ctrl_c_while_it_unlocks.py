"""`tazpod login` on a real terminal, against a stand-in PID 1 that holds
its answer to the unlock. PID 1 does not stop an unlock half way, so a
Ctrl+C while the login waits for it does not end the login: it is answered
at once, and the login waits for PID 1's word of what was done, then gives
no shell (exit 4). A second Ctrl+C leaves at once, without that word
(exit 4), while PID 1 still holds its answer; Ctrl+\\ and Ctrl+Z count
as the same keys. Before PID 1 has taken the request (its backlog full),
one Ctrl+C leaves, with nothing asked."""
import os
import socket
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, eventually, main  # noqa: E402
from standin_pid1 import StandIn  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
ANSWERED = b"Interrupted: PID 1 does not stop an unlock half way; waiting for its answer"
LEFT = b"tazpod login: left before PID 1 answered; no shell. The vault locks again once no session holds it."


# PID 1's answer to the login's first question: a vault to unlock.
LOCKED = {"v": 1, "ok": True, "vault": "locked", "first_login": False, "min_length": 8, "sessions": 0,
          "retry_after_ms": 0}


def login_waiting_for_its_unlock(through_shell=True):
    """A stand-in PID 1 holding its unlock's answer (released by setting
    the returned event), and a login on a terminal waiting for it: run by
    a shell that then prints `exit=N`, or (through_shell False) the login
    itself as the terminal's foreground, for the keys a shell around it
    would take too (Ctrl+\\, Ctrl+Z)."""
    pid1 = StandIn()
    pid1.replies["gate.status"] = LOCKED
    pid1.replies["gate.login"] = {"v": 1, "ok": True, "user": "nobody", "mountpoint": "/nonexistent",
                                  "mount_namespace": False}
    answer = threading.Event()
    pid1.held["gate.login"] = answer
    argv = ["bash", "-c", '"$0" login --socket "$1"; echo "exit=$?"', TAZPOD, pid1.path] if through_shell \
        else [TAZPOD, "login", "--socket", pid1.path]
    shell = PtyChild(argv)
    shell.expect("Vault passphrase: ")
    shell.send("correct horse\r")
    shell.expect("Unlocking")
    check(eventually(lambda: "gate.login" in pid1.asked), "the login never asked to unlock: %r" % pid1.asked)
    return answer, shell


def test_one_ctrl_c_is_answered_then_the_word_awaited():
    answer, shell = login_waiting_for_its_unlock()
    try:
        shell.send("\x03")
        shell.expect(ANSWERED.decode())
        shown = shell.drain(0.5)
        check(b"exit=" not in shown, "one Ctrl+C ended the login before PID 1 answered: %r" % shown)
        answer.set()
        said = shell.expect(r"exit=(\d+)")
        check(said.group(1) == b"4", "login exited %s, not 4" % said.group(1))
        check(b"The vault was unlocked, but the login was interrupted: no shell." in said.string,
              "the login did not say what was done: %r" % said.string)
        check(LEFT not in said.string, "the login said it left without the answer: %r" % said.string)
        shell.wait()
    finally:
        answer.set()
        shell.kill()


def test_a_second_ctrl_c_leaves_now():
    answer, shell = login_waiting_for_its_unlock()
    try:
        shell.send("\x03")
        shell.expect(ANSWERED.decode())
        shell.send("\x03")
        # PID 1 answers only once `answer` is set, in `finally`: the exit
        # comes without the answer, or this times out.
        said = shell.expect(r"exit=(\d+)")
        check(said.group(1) == b"4", "login exited %s, not 4" % said.group(1))
        check(LEFT in said.string, "the login did not say it left without the answer: %r" % said.string)
        check(b"The vault was unlocked" not in said.string, "the login claimed an answer: %r" % said.string)
        shell.wait()
    finally:
        answer.set()
        shell.kill()


def test_ctrl_backslash_then_ctrl_z_leave_now_too():
    answer, login = login_waiting_for_its_unlock(through_shell=False)
    try:
        login.send("\x1c")  # Ctrl+\: SIGQUIT
        login.expect(ANSWERED.decode())
        login.send("\x1a")  # Ctrl+Z: SIGTSTP
        login.expect(LEFT.decode())
        status = login.wait()
        check(status == 4, "login exited %d, not 4" % status)
    finally:
        answer.set()
        login.kill()


def test_ctrl_c_before_pid1_takes_the_request_leaves_now():
    """PID 1's backlog is full (it has stopped accepting): the login's
    connect waits, and one Ctrl+C ends it, with nothing asked."""
    pid1 = StandIn()
    pid1.replies["gate.status"] = LOCKED
    pid1.accepting.clear()  # after the status request
    shell = PtyChild(["bash", "-c", '"$0" login --socket "$1"; echo "exit=$?"', TAZPOD, pid1.path])
    fillers = []
    try:
        shell.expect("Vault passphrase: ")
        while True:  # the backlog, full
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setblocking(False)
            try:
                s.connect(pid1.path)
            except BlockingIOError:
                s.close()
                break
            fillers.append(s)
        shell.send("correct horse\r")
        shell.expect("Unlocking")
        shell.drain(0.3)
        shell.send("\x03")
        said = shell.expect(r"exit=(\d+)")
        check(said.group(1) == b"4", "login exited %s, not 4" % said.group(1))
        check(b"tazpod login: interrupted before PID 1 took the request: nothing was done; no shell." in said.string,
              "the login did not say that nothing was asked: %r" % said.string)
        check(pid1.asked == ["gate.status"], "PID 1 was asked %r" % pid1.asked)
        shell.wait()
    finally:
        for s in fillers:
            s.close()
        pid1.accepting.set()
        shell.kill()


def test():
    test_one_ctrl_c_is_answered_then_the_word_awaited()
    test_a_second_ctrl_c_leaves_now()
    test_ctrl_backslash_then_ctrl_z_leave_now_too()
    test_ctrl_c_before_pid1_takes_the_request_leaves_now()


main(test)
