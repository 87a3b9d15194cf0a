"""Connections to PID 1's control socket held by the workstation user: an
init whose only component is that socket, and a process of the user's
that opens connections to it (all within PID 1's 5 s read timeout, after
which it drops silent ones), says how many PID 1 kept, and holds them
silent until its stdin closes."""
import json
import os
import socket
import subprocess
import sys


def start_init(tazpod, work, user, wrapper=()):
    """`tazpod init` as PID 1 of a new PID namespace (under `wrapper`, a
    command such as prlimit), with `user` (a pwd entry) as the workstation
    user and its control socket at WORK/run/control.sock; no vault, no HTTP
    endpoint (other host tests may hold its port meanwhile). Returns the
    unshare process, the socket's path and the log file (init's stderr)."""
    os.chmod(work, 0o755)
    sock_path = os.path.join(work, "run", "control.sock")
    config = os.path.join(work, "init.toml")
    with open(config, "w") as f:
        f.write('[vault]\nenabled = false\n[session]\nuser = "%s"\nsocket = "%s"\n[health]\nhttp = false\n'
                % (user.pw_name, sock_path))
    log = open(os.path.join(work, "init.log"), "w+")
    init = subprocess.Popen(list(wrapper) + ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", tazpod,
                                             "init", "--config", config, "--", "sleep", "1000"], stderr=log)
    return init, sock_path, log

def serving(sock_path):
    """Whether init's control sockets, the shared one and root's, both
    take connections: they exist from bind(2), and refuse them until
    listen(2)."""
    for path in (sock_path, sock_path + ".root"):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
        except OSError:
            return False
        finally:
            s.close()
    return True


_HOLDER = """
import json, socket, struct, sys, time
opened = []
for _ in range(int(sys.argv[2])):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    opened.append(s)
time.sleep(0.5)
held = 0
refusal = None
for s in opened:
    s.setblocking(False)
    got = b""
    closed = False
    try:
        while True:  # refused: PID 1 answered and closed it at once
            chunk = s.recv(4096)
            if not chunk:
                closed = True
                break
            got += chunk
    except BlockingIOError:
        pass
    held += 0 if closed else 1
    if closed and refusal is None and len(got) >= 4:
        refusal = json.loads(got[4:4 + struct.unpack(">I", got[:4])[0]])
print(held, flush=True)
print(json.dumps(refusal), flush=True)
sys.stdin.read()
"""


class HeldConnections:
    """`with HeldConnections(user, sock_path) as h:` h.held connections are
    open as `user` (a pwd entry) until the block ends; h.refusal is PID 1's
    reply to the first one it turned away (None: none, or no reply)."""

    def __init__(self, user, sock_path, count=40):
        self.process = subprocess.Popen(
            ["setpriv", "--reuid=%d" % user.pw_uid, "--regid=%d" % user.pw_gid, "--clear-groups",
             sys.executable, "-c", _HOLDER, sock_path, str(count)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            self.held = int(self.process.stdout.readline())
            self.refusal = json.loads(self.process.stdout.readline())
        except BaseException:
            # The holder waits on a stdin no __exit__ will close: it would
            # outlive the test.
            self.process.kill()
            self.process.wait()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.process.stdin.close()
        self.process.wait(timeout=10)
