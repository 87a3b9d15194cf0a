"""`tazpod passwd` and `tazpod status` against a stand-in PID 1 whose gate
pauses passphrase changes (after a change the vault refused for a cause
that lasts, docs/gate.md) but not logins. On a real terminal, passwd says
the wait and exits 1 before asking for any passphrase, and never sends
one; status shows the change's wait beside the logins'. With no pause,
passwd asks as always."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, main  # noqa: E402
from standin_pid1 import StandIn  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
pid1 = StandIn()
STATUS = {"v": 1, "ok": True, "vault": "unlocked", "first_login": False, "min_length": 8, "sessions": 1,
          "user": "dev", "mountpoint": "/home/dev/secrets", "retry_after_ms": 0}


def status(*extra):
    return subprocess.run([TAZPOD, "status", *extra, "--socket", pid1.path], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)


def test():
    pid1.replies["gate.status"] = dict(STATUS, change_retry_after_ms=29500)
    pid1.replies["vault.status"] = {"v": 1, "ok": True, "state": "unlocked", "busy": False}
    pid1.replies["gate.passwd"] = {"v": 1, "ok": True}
    passwd = PtyChild([TAZPOD, "passwd", "--socket", pid1.path])
    try:
        said = passwd.expect(r"(?s)^(.*)too soon after a refused attempt: try again in 30 s; nothing changed\.").group(1)
        code = passwd.wait()
    finally:
        passwd.kill()
    check(code == 1, "passwd exited %d, not 1; the terminal showed %r" % (code, passwd.output))
    check(b"passphrase:" not in said + passwd.output, "passwd asked for a passphrase: %r" % (said + passwd.output))
    check(pid1.asked == ["gate.status"], "passwd asked PID 1 %r" % pid1.asked)

    text = status()
    check(text.returncode == 0, "status exited %d: %r" % (text.returncode, text.stderr))
    check("throttle: next passphrase change heard in 30 s" in text.stdout, "status did not show the wait: %r" % text.stdout)
    check("next passphrase heard" not in text.stdout, "status showed a login wait there is none of: %r" % text.stdout)
    as_json = json.loads(status("--json").stdout)
    check(as_json.get("change_retry_after_ms") == 29500 and as_json.get("retry_after_ms") == 0,
          "status --json: %r" % as_json)

    # No pause: the passphrases are asked for.
    pid1.replies["gate.status"] = dict(STATUS, change_retry_after_ms=0)
    passwd = PtyChild([TAZPOD, "passwd", "--socket", pid1.path])
    try:
        passwd.expect("Current passphrase: ")
    finally:
        passwd.kill()


main(test)
