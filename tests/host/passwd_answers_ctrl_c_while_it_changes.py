"""`tazpod passwd` on a real terminal, against a stand-in PID 1 that holds
its answer to the change. Ctrl+C while passwd waits for it is answered at
once, and so is no second one: a user who left without knowing whether the
change was made would not know which passphrase opens the vault. The answer,
when it comes, is said as always."""
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, eventually, main, proc_state  # noqa: E402
from standin_pid1 import StandIn, answer_passwd_prompts  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
ANSWERED = "Interrupted: PID 1 does not stop a passphrase change half way; waiting for its answer"


def test():
    pid1 = StandIn()
    pid1.replies["gate.status"] = {"v": 1, "ok": True, "vault": "unlocked", "first_login": False, "min_length": 8,
                                   "sessions": 1, "retry_after_ms": 0, "change_retry_after_ms": 0}
    pid1.replies["gate.passwd"] = {"v": 1, "ok": True}
    answer = threading.Event()
    pid1.held["gate.passwd"] = answer
    passwd = PtyChild([TAZPOD, "passwd", "--socket", pid1.path])
    try:
        answer_passwd_prompts(passwd)
        passwd.expect(r"Changing the passphrase\.\.\.")
        check(eventually(lambda: "gate.passwd" in pid1.asked), "passwd never asked for the change: %r" % pid1.asked)
        passwd.send("\x03")
        passwd.expect(ANSWERED)
        passwd.send("\x03")
        shown = passwd.drain(1.0)
        check(proc_state(passwd.pid) != "Z", "a second Ctrl+C ended passwd before PID 1 answered: %r" % shown)
        check(ANSWERED.encode() not in shown, "the second Ctrl+C was answered again: %r" % shown)
        answer.set()
        code = passwd.wait()
        said = passwd.output
    finally:
        answer.set()
        passwd.kill()
    check(code == 0, "passwd exited %d, not 0; it said %r" % (code, said))
    check(b"Passphrase changed." in said, "passwd did not say the change was made: %r" % said)


main(test)
