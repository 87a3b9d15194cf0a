"""`tazpod login` on a real terminal, against a stand-in PID 1 that holds
its answer to the unlock. While the login waits, echo is off: what is typed
meanwhile (the passphrase again, by someone who thinks the first was lost)
does not show. Once the answer comes, it is discarded, not left for what
reads the terminal next (the user's shell, as a command line), and the
terminal's mode is restored. A refusal that comes with a wait says the
wait as a sentence of its own."""
import os
import re
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, echo_on, eventually, main  # noqa: E402
from standin_pid1 import StandIn  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
TYPED_AHEAD = "typed-ahead-s3cret"


def test():
    pid1 = StandIn()
    pid1.replies["gate.status"] = {"v": 1, "ok": True, "vault": "locked", "first_login": False, "min_length": 8,
                                   "sessions": 0, "retry_after_ms": 0}
    pid1.replies["gate.login"] = {"v": 1, "ok": False, "kind": "refused",
                                  "error": "the vault is being locked: log in again once it is",
                                  "retry_after_ms": 2500}
    answer = threading.Event()
    pid1.held["gate.login"] = answer
    # The login, then what reads the terminal after it: a shell's `read`,
    # which finds any line typed during the unlock that was left behind,
    # and the terminal's mode (`stty -a`).
    shell = PtyChild(["bash", "-c", '"$0" login --socket "$1"; echo "exit=$?"; '
                      'IFS= read -r -t 2 left; echo "left=[$left]"; stty -a', TAZPOD, pid1.path])
    try:
        shell.expect("Vault passphrase: ")
        shell.send("correct horse\r")
        shell.expect("Unlocking")
        check(eventually(lambda: "gate.login" in pid1.asked), "the login never asked to unlock: %r" % pid1.asked)
        check(not echo_on(shell.pid), "echo is on while the login waits for the unlock")
        shell.send(TYPED_AHEAD + "\r")
        shown = shell.drain(0.5)
        check(TYPED_AHEAD.encode() not in shown, "what was typed during the unlock was shown: %r" % shown)
        answer.set()
        said = shell.expect(r"exit=(\d+)")
        check(said.group(1) == b"1", "login exited %s, not 1" % said.group(1))
        check(b"tazpod login: the vault is being locked: log in again once it is. Next attempt in 3 s." in shown + said.string,
              "the refusal and its wait were not said as two sentences: %r" % (shown + said.string))
        left = shell.expect(r"left=\[(.*)\]").group(1)
        check(left == b"", "the line typed during the unlock was left for the shell: %r" % left)
        shell.wait()
        check(re.search(rb"[^-]echo ", shell.output), "echo was not restored after the unlock: %r" % shell.output)
    finally:
        answer.set()
        shell.kill()


main(test)
