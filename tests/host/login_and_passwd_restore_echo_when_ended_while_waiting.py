"""`tazpod login` and `tazpod passwd` on a real terminal, ended by a signal
while they wait for PID 1 (a stand-in that holds its answer), with echo off.
The signal ends them as it would have (the shell sees 128+N), but only after
the terminal's mode is back: the shell the user returns to shows what is
typed. Without the restore, echo stays off until `stty sane`."""
import os
import re
import signal
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, children, echo_on, eventually, main  # noqa: E402
from standin_pid1 import StandIn, answer_passwd_prompts  # noqa: E402

TAZPOD = os.environ["TAZPOD"]


def end_while_waiting(command, op, replies, signo, answer_prompts):
    pid1 = StandIn()
    pid1.replies.update(replies)
    answer = threading.Event()
    pid1.held[op] = answer
    # The command, then what the user's shell would find: its exit status,
    # and the terminal's mode (`stty -a`).
    shell = PtyChild(["bash", "-c", '"$0" %s --socket "$1"; echo "exit=$?"; stty -a' % command, TAZPOD, pid1.path])
    try:
        answer_prompts(shell)
        check(eventually(lambda: op in pid1.asked), "%s never sent %s: %r" % (command, op, pid1.asked))
        check(not echo_on(shell.pid), "echo is on while %s waits for PID 1" % command)
        waiting = children(shell.pid)
        check(len(waiting) == 1, "not one child of the shell: %r" % waiting)
        os.kill(waiting[0], signo)
        code = int(shell.expect(r"exit=(\d+)").group(1))
        check(code == 128 + signo, "%s ended by signal %d: the shell saw %d, not %d" % (command, signo, code, 128 + signo))
        shell.wait()
        check(re.search(rb"[^-]echo ", shell.output),
              "%s ended by signal %d left echo off: %r" % (command, signo, shell.output))
    finally:
        answer.set()
        shell.kill()


def answer_login_prompt(shell):
    shell.expect("Vault passphrase: ")
    shell.send("correct horse\r")
    shell.expect("Unlocking")


def answer_passwd_then_wait(shell):
    answer_passwd_prompts(shell)
    shell.expect(r"Changing the passphrase\.\.\.")


def test():
    login_replies = {
        "gate.status": {"v": 1, "ok": True, "vault": "locked", "first_login": False, "min_length": 8,
                        "sessions": 0, "retry_after_ms": 0},
        "gate.login": {"v": 1, "ok": False, "kind": "refused", "error": "never answered"},
    }
    passwd_replies = {
        "gate.status": {"v": 1, "ok": True, "vault": "unlocked", "first_login": False, "min_length": 8,
                        "sessions": 1, "retry_after_ms": 0, "change_retry_after_ms": 0},
        "gate.passwd": {"v": 1, "ok": True},
    }
    end_while_waiting("login", "gate.login", login_replies, signal.SIGTERM, answer_login_prompt)
    end_while_waiting("login", "gate.login", login_replies, signal.SIGUSR1, answer_login_prompt)
    end_while_waiting("passwd", "gate.passwd", passwd_replies, signal.SIGTERM, answer_passwd_then_wait)
    end_while_waiting("passwd", "gate.passwd", passwd_replies, signal.SIGALRM, answer_passwd_then_wait)


main(test)
