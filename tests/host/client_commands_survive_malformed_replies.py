"""The client commands against a stand-in PID 1 whose replies are JSON
objects with a field of the wrong type (a PID 1 of another version, or a
bug). Each command says "malformed reply from the supervisor" and exits as
when PID 1 cannot be understood (69; `health`: 1, unhealthy), never in
std::terminate (SIGABRT, 134). `login` and `passwd` are typed into on a
real terminal, `passwd` up to the moment its passphrases are sent, after
which it must say that the change may have been made."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, main  # noqa: E402
from standin_pid1 import StandIn, answer_passwd_prompts  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
pid1 = StandIn()
sock_path = pid1.path
replies = pid1.replies
asked = pid1.asked


def run(*args):
    return subprocess.run([TAZPOD, *args, "--socket", sock_path], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30)


def check_refused(what, result, code):
    said = result.stdout + result.stderr
    check(result.returncode == code, "%s exited %d, not %d; it said: %r" % (what, result.returncode, code, said))
    check("malformed reply from the supervisor" in said, "%s did not say why: %r" % (what, said))


def test():
    replies["gate.status"] = {"v": 1, "ok": True, "vault": 5, "sessions": "two"}
    check_refused("status", run("status"), 69)
    check_refused("status --json", run("status", "--json"), 69)

    replies["gate.lock"] = {"v": 1, "ok": "yes"}
    check_refused("lock", run("lock"), 69)

    replies["health.check"] = {"v": 1, "ok": True, "healthy": "yes"}
    result = run("health")
    check_refused("health", result, 1)
    check(result.stdout.startswith("unhealthy: malformed reply") and result.stdout.count("\n") == 1,
          "health did not say it in its one line: %r" % result.stdout)

    replies["vault.status"] = {"v": 1, "ok": True, "state": 7}
    check_refused("vault status", run("vault", "status"), 69)
    replies["vault.status"] = {"v": 1, "ok": True, "state": "locked", "busy": "no"}
    result = run("vault", "status")
    check_refused("vault status (busy)", result, 69)
    check(result.stdout == "", "vault status printed part of its line: %r" % result.stdout)

    # login: its first question (is there a vault?) answered with a string.
    replies["gate.status"] = {"v": 1, "ok": True, "first_login": "no", "min_length": 8}
    login = PtyChild([TAZPOD, "login", "--socket", sock_path])
    try:
        login.expect("malformed reply from the supervisor")
        code = login.wait()
    finally:
        login.kill()
    check(code == 69, "login exited %d, not 69; the terminal showed %r" % (code, login.output))

    # passwd: asked for both passphrases, then the answer to the change is
    # of the wrong type, after the secrets were sent.
    replies["gate.status"] = {"v": 1, "ok": True, "first_login": False, "min_length": 8}
    replies["gate.passwd"] = {"v": 1, "ok": "yes"}
    del asked[:]
    passwd = PtyChild([TAZPOD, "passwd", "--socket", sock_path])
    try:
        answer_passwd_prompts(passwd)
        passwd.expect("malformed reply from the supervisor")
        code = passwd.wait()
    finally:
        passwd.kill()
    check(code == 69, "passwd exited %d, not 69; the terminal showed %r" % (code, passwd.output))
    check(asked == ["gate.status", "gate.passwd"], "passwd asked %r" % asked)
    # PID 1 had the passphrases: the change may have been made.
    check(b"the passphrase may have been changed" in passwd.transcript,
          "passwd did not say the change may have been made: %r" % passwd.transcript)


main(test)
