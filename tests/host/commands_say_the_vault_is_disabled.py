"""With `[vault] enabled = false`, the commands that reach for the vault
say so and exit 1: `tazpod status`, `lock`, `vault status` and `vault
unlock` on their stderr, `tazpod login` and `passwd` on their terminal,
before asking for any passphrase; root's `vault` ops are still refused
to the workstation user. Before, PID 1 knew no such op and each said
`unknown op "gate.status"` (or "vault.status")."""
import faulthandler
import os
import pwd
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, eventually, main  # noqa: E402
from control_holder import serving, start_init  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
WHY = "there is no vault: it is disabled ([vault] enabled = false)"


def test():
    init, sock_path, log = start_init(TAZPOD, tempfile.mkdtemp(), pwd.getpwnam("nobody"))
    try:
        check(eventually(lambda: serving(sock_path)), "init serves no control socket")
        for argv in (["status"], ["status", "--json"], ["lock"], ["vault", "status"]):
            r = subprocess.run([TAZPOD] + argv + ["--socket", sock_path], capture_output=True, text=True)
            print("tazpod %s: exit %d, %r" % (" ".join(argv), r.returncode, r.stderr))
            check(r.returncode == 1 and WHY in r.stderr and "unknown op" not in r.stderr,
                  "tazpod %s with the vault disabled: exit %d, stdout %r, stderr %r"
                  % (" ".join(argv), r.returncode, r.stdout, r.stderr))
        # A passphrase op: taken, and answered the same.
        r = subprocess.run([TAZPOD, "vault", "unlock", "--passphrase-stdin", "--socket", sock_path],
                           input="a passphrase\n", capture_output=True, text=True)
        check(r.returncode == 1 and WHY in r.stderr,
              "tazpod vault unlock with the vault disabled: exit %d, %r" % (r.returncode, r.stderr))
        # Root's ops are still refused to the workstation user, as root's.
        nobody = pwd.getpwnam("nobody")
        r = subprocess.run(["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups",
                            TAZPOD, "vault", "lock", "--socket", sock_path], capture_output=True, text=True)
        check(r.returncode == 1 and "is for root" in r.stderr,
              "tazpod vault lock by the workstation user, the vault disabled: exit %d, %r" % (r.returncode, r.stderr))
        env = {"TERM": "dumb", "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        for command in ("login", "passwd"):
            child = PtyChild([TAZPOD, command, "--socket", sock_path], env=env)
            try:
                child.expect("tazpod %s: " % command)
                child.expect(r"\(\[vault\] enabled = false\)")
                code = child.wait()
            finally:
                child.kill()
            check(code == 1 and b"assphrase:" not in child.transcript,
                  "tazpod %s with the vault disabled: exit %d, the terminal showed %r"
                  % (command, code, child.transcript))
        check(init.poll() is None, "init ended")
    finally:
        init.kill()
        init.wait()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
