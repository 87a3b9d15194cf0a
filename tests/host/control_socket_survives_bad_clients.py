"""The control socket against bad clients: an oversized header or secret, a
header that is not JSON, a wrong version, an unknown op, a half-closed or
silent (slow-loris) connection, a passphrase sent with an op that takes
none, and a flood of connections. Each gets an error or is dropped; PID 1
keeps answering, keeps reaping, exits cleanly with a connection still
open, and nobody but root and the configured user may connect. (A
passphrase PID 1 cannot lock is refused too: control_server_test.cc.)"""
import faulthandler
import json
import os
import pwd
import re
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, eventually, main  # noqa: E402
from control_holder import serving  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
work = tempfile.mkdtemp()
sock_path = os.path.join(work, "run", "control.sock")


def frame(header, secret=b""):
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack(">I", len(h)) + h + struct.pack(">I", len(secret)) + secret


def call(data, shutdown=True, timeout=10, path=None):
    """Sends raw bytes; returns the decoded reply header, or None if closed."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path or sock_path)
    s.sendall(data)
    if shutdown:
        s.shutdown(socket.SHUT_WR)
    buf = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    except ConnectionResetError:
        pass  # after its reply, PID 1 closed with part of the request unread
    finally:
        s.close()
    if len(buf) < 4:
        return None
    n = struct.unpack(">I", buf[:4])[0]
    return json.loads(buf[4:4 + n])


def ping():
    r = call(frame({"v": 1, "op": "control.ping"}))
    check(r == {"v": 1, "ok": True}, "ping failed: %r" % r)


def test():
    config = os.path.join(work, "init.toml")
    with open(config, "w") as f:
        f.write('[vault]\nenabled = false\n[session]\nuser = "root"\nsocket = "%s"\n' % sock_path)
    log = open(os.path.join(work, "init.log"), "w+")
    init = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", TAZPOD, "init", "--config", config,
                             "--", "sleep", "1000"], stderr=log)
    try:
        # Its mode is set between bind(2) and listen(2).
        check(eventually(lambda: serving(sock_path)), "init's control sockets take no connections")
        mode = os.stat(sock_path).st_mode & 0o777
        check(mode == 0o660, "socket mode %o, expected 660" % mode)
        check(os.stat(os.path.dirname(sock_path)).st_mode & 0o777 == 0o750, "socket directory is not 0750")
        ping()

        r = call(struct.pack(">I", 1 << 30))
        check(r and r["ok"] is False and "header size" in r["error"], "oversized header: %r" % r)
        r = call(frame(b"{not json"))
        check(r and r["ok"] is False and "JSON" in r["error"], "garbage header: %r" % r)
        r = call(frame({"v": 2, "op": "control.ping"}))
        check(r and r["ok"] is False and "version" in r["error"], "wrong version: %r" % r)
        r = call(frame({"v": 1, "op": "no.such.op"}))
        check(r and r["ok"] is False and "unknown op" in r["error"], "unknown op: %r" % r)
        r = call(frame({"v": 1, "op": "control.ping"})[:-4] + struct.pack(">I", 1 << 20))
        check(r and r["ok"] is False and "secret size" in r["error"], "oversized secret: %r" % r)
        r = call(frame({"v": 1, "op": "control.ping"}, b"a passphrase"))
        check(r and r["ok"] is False and r["error"] == "control.ping takes no passphrase",
              "a passphrase with an op that takes none: %r" % r)
        r = call(frame({"v": 1, "op": "control.ping"})[:6])  # half a message, then EOF
        check(r is None, "a half-closed request got a reply: %r" % r)
        ping()

        # Slow loris: connections that send nothing are dropped after the
        # read timeout, and meanwhile others are served.
        idle = []
        for _ in range(10):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock_path)
            idle.append(s)
        ping()
        start = time.monotonic()
        idle[0].settimeout(15)
        check(idle[0].recv(1) == b"", "a silent connection was not closed")
        waited = time.monotonic() - start
        check(waited < 12, "silent connection held for %.1f s" % waited)
        for s in idle:
            s.close()

        # A flood of connections beyond the limit: refused, not queued forever.
        flood = []
        for _ in range(60):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock_path)
            flood.append(s)
        time.sleep(0.5)
        for s in flood:
            s.close()
        time.sleep(0.2)
        ping()

        # Nobody else: a process of another user is not served.
        nobody = pwd.getpwnam("nobody")
        os.chmod(work, 0o755)
        probe = subprocess.run(
            ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups",
             sys.executable, "-c",
             "import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
             "try:\n s.connect(sys.argv[1]); print('connected')\nexcept OSError as e: print('refused', e.errno)",
             sock_path], capture_output=True, text=True)
        check(probe.stdout.startswith("refused"), "another user reached the socket: " + probe.stdout + probe.stderr)

        # PID 1 is unaffected: it still forwards signals and exits cleanly,
        # also with a client connected that has sent nothing yet (its
        # connection then outlives the control server; under the
        # sanitizers, a use after free once showed here).
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.connect(sock_path)
        ping()  # the silent connection has been accepted
        with open("/proc/%d/task/%d/children" % (init.pid, init.pid)) as f:
            pid1 = int(f.read().split()[0])  # init, as seen from here (unshare's child)
        os.kill(pid1, signal.SIGTERM)
        code = init.wait(timeout=20)
        silent.close()
        check(code == 143, "init exit status %d after all that" % code)
        log.seek(0)
        text = log.read()
        check("control.refused" in text, "refusals were not logged")
        check(re.search(r"control\.refused .*reason=too_many_connections", text) is not None,
              "the flood beyond the connection limit was not refused:\n" + text)
        check("init.component.failed" not in text, "a component failed:\n" + text)
    finally:
        if init.poll() is None:
            init.kill()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
