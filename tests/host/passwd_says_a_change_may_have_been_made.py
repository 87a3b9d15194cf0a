"""`tazpod passwd` on a real terminal, against a stand-in PID 1 that reads
the whole request and then closes the connection without an answer. PID 1
had the passphrases and may have made the change, so passwd must not say
that nothing changed: it says the change may have been made, and which
passphrase to try, and exits 69. Refused before the request was sent
(PID 1 not there at all), it says that nothing changed."""
import os
import shutil
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, main  # noqa: E402
from standin_pid1 import StandIn, answer_passwd_prompts  # noqa: E402

TAZPOD = os.environ["TAZPOD"]


def test():
    pid1 = StandIn()
    pid1.replies["gate.status"] = {"v": 1, "ok": True, "vault": "unlocked", "first_login": False, "min_length": 8,
                                   "sessions": 1, "retry_after_ms": 0, "change_retry_after_ms": 0}
    pid1.replies["gate.passwd"] = None
    passwd = PtyChild([TAZPOD, "passwd", "--socket", pid1.path])
    try:
        answer_passwd_prompts(passwd)
        said = passwd.expect(r"(?s)Changing the passphrase\.\.\.(.*)").group(1)
        code = passwd.wait()
        said += passwd.output
    finally:
        passwd.kill()
    check(code == 69, "passwd exited %d, not 69; it said %r" % (code, said))
    check(b"the passphrase may have been changed" in said and b"nothing changed" not in said,
          "passwd did not say the change may have been made: %r" % said)
    check(pid1.asked == ["gate.status", "gate.passwd"], "passwd asked PID 1 %r" % pid1.asked)

    # The socket gone before the request: nothing can have changed. Here
    # the status request fails first, so passwd asks for nothing.
    shutil.rmtree(os.path.dirname(pid1.path))
    passwd = PtyChild([TAZPOD, "passwd", "--socket", pid1.path])
    try:
        code = passwd.wait()
    finally:
        passwd.kill()
    check(code == 69, "passwd exited %d without a PID 1, not 69: %r" % (code, passwd.output))
    check(b"may have been changed" not in passwd.output and b"; nothing changed." in passwd.output,
          "passwd without a PID 1: %r" % passwd.output)


main(test)
