"""`tazpod passwd` without CAP_IPC_LOCK and with RLIMIT_MEMLOCK 0, on a real
terminal against a stand-in PID 1: no passphrase may sit in memory that can
be swapped out, so it says why and asks for none, sends nothing to change,
and exits 4."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, main  # noqa: E402
from standin_pid1 import StandIn  # noqa: E402

TAZPOD = os.environ["TAZPOD"]


def test():
    if os.environ.get("TAZPOD_SANITIZED") == "1":
        # ASan's mlock() is a no-op that returns 0: nothing to refuse there.
        # Exit 77: ctest reports the test as skipped, not passed.
        print("skipped under the sanitizers: no refusal without locked memory")
        sys.exit(77)
    pid1 = StandIn()
    pid1.replies["gate.status"] = {"v": 1, "ok": True, "vault": "unlocked", "first_login": False, "min_length": 8,
                                   "sessions": 1, "retry_after_ms": 0, "change_retry_after_ms": 0}
    pid1.replies["gate.passwd"] = {"v": 1, "ok": True}
    passwd = PtyChild(["prlimit", "--memlock=0:0", "setpriv", "--bounding-set=-ipc_lock",
                       TAZPOD, "passwd", "--socket", pid1.path])
    try:
        passwd.expect("cannot lock memory")
        code = passwd.wait()
    finally:
        passwd.kill()
    said = passwd.transcript  # all of it: a prompt would come before the refusal
    check(code == 4, "passwd exited %d, not 4: %r" % (code, said))
    check(b"passphrase:" not in said, "a passphrase was asked for: %r" % said)
    check(b"nothing changed" in said, "passwd did not say nothing changed: %r" % said)
    check("gate.passwd" not in pid1.asked, "passwd sent a change: %r" % pid1.asked)


main(test)
