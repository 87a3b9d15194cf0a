"""The shared control socket is 0660 root:GROUP, GROUP the workstation
user's primary group, so every other member of that group can connect to
it: for them PID 1's SO_PEERCRED check is the only barrier. Such a caller
is answered that the socket does not serve it, its request is not acted
on, and the refusal is logged with its uid; the workstation user itself
is served (docs/protocol.md, "Access"; docs/threat-model.md).

The `tazpod` clients run by such a caller say why too (`vault status`
with no `state=` line a script could take for the vault's), even when PID 1
has answered and closed before the client wrote its request (its write
then fails with EPIPE): strace holds each of its sendmsg calls back a
second, and the test checks that the write did fail so."""
import faulthandler
import json
import os
import pwd
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, eventually, main  # noqa: E402
from control_holder import serving, start_init  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
# A uid no account has, in the workstation user's group.
STRANGER_UID = 64999

# Sends one control.ping as the given uid and gid (no other group) and
# prints PID 1's reply, or "closed" when the connection ended without one.
_PING = """
import json, socket, struct, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
header = json.dumps({"v": 1, "op": "control.ping"}).encode()
try:
    s.sendall(struct.pack(">I", len(header)) + header + struct.pack(">I", 0))
except BrokenPipeError:  # turned away, and closed, before the request went
    pass
s.settimeout(5)
got = b""
try:
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
except ConnectionResetError:  # closed with the request unread, after the reply
    pass
if len(got) < 4:
    print("closed")
else:
    print(got[4:4 + struct.unpack(">I", got[:4])[0]].decode())
"""


def ping_as(uid, gid, sock_path):
    run = subprocess.run(["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                          sys.executable, "-c", _PING, sock_path], capture_output=True, text=True, timeout=20)
    check(run.returncode == 0, "the ping as uid %d failed: %r" % (uid, run.stderr))
    return run.stdout.strip()


def test():
    nobody = pwd.getpwnam("nobody")
    check(STRANGER_UID != nobody.pw_uid, "the stranger's uid is the workstation user's")
    init, sock_path, log = start_init(TAZPOD, tempfile.mkdtemp(), nobody)
    try:
        check(eventually(lambda: serving(sock_path), seconds=5), "init's control sockets take no connections")
        stranger = ping_as(STRANGER_UID, nobody.pw_gid, sock_path)
        check(stranger != "closed", "a member of the user's group got no answer")
        reply = json.loads(stranger)
        check(reply.get("ok") is False and "serves root and the workstation user only" in reply.get("error", ""),
              "a member of the user's group was answered %r" % reply)
        check(shutil.which("strace") is not None, "strace is not installed (scripts/setup installs it)")
        env = dict(os.environ)
        # LeakSanitizer's exit check attaches to the process's threads,
        # which strace already holds.
        if "ASAN_OPTIONS" in env:
            env["ASAN_OPTIONS"] += ":detect_leaks=0"
        trace = os.path.join(tempfile.mkdtemp(), "trace")
        client = subprocess.run(["strace", "-f", "-qq", "-s", "0", "-o", trace, "-e", "trace=sendmsg",
                                 "-e", "inject=sendmsg:delay_enter=1000000",
                                 "setpriv", "--reuid=%d" % STRANGER_UID, "--regid=%d" % nobody.pw_gid, "--clear-groups",
                                 TAZPOD, "status", "--socket", sock_path],
                                stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30, env=env)
        with open(trace) as f:
            traced = f.read()
        check("EPIPE" in traced, "the client's request was not refused by a closed connection "
              "(PID 1 slower than the delay?):\n%s" % traced)
        check(client.returncode == 1 and "serves root and the workstation user only" in client.stderr,
              "tazpod status as a member of the user's group: exit %d, %r %r"
              % (client.returncode, client.stdout, client.stderr))
        # A script reading `tazpod vault status` gets no state= line to
        # take for the vault's.
        vault = subprocess.run(["setpriv", "--reuid=%d" % STRANGER_UID, "--regid=%d" % nobody.pw_gid,
                                "--clear-groups", TAZPOD, "vault", "status", "--socket", sock_path],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
        check(vault.returncode == 1 and vault.stdout == ""
              and "serves root and the workstation user only" in vault.stderr,
              "tazpod vault status as a member of the user's group: exit %d, %r %r"
              % (vault.returncode, vault.stdout, vault.stderr))
        user = json.loads(ping_as(nobody.pw_uid, nobody.pw_gid, sock_path))
        check(user.get("ok") is True, "the workstation user's ping was answered %r" % user)
        log.seek(0)
        text = log.read()
        check("control.refused reason=uid_not_allowed uid=%d" % STRANGER_UID in text,
              "the refusal of uid %d was not logged:\n%s" % (STRANGER_UID, text))
    finally:
        init.kill()
        init.wait()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
