"""The workstation user cannot shut root out of the control socket: with
every connection the user may hold taken (silent ones here; logins queued
behind a slow unlock hold theirs the same way), the user's next one is
refused, and root's `tazpod health` (Docker's HEALTHCHECK) is still
answered. Before, the user could take all 32 slots."""
import faulthandler
import os
import pwd
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, main  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
work = tempfile.mkdtemp()
sock_path = os.path.join(work, "run", "control.sock")

# Run as the workstation user: opens as many connections as it is given,
# says how many, and holds them silent until its stdin closes.
# (All within PID 1's 5 s read timeout, after which it drops silent ones.)
HOLDER = """
import socket, sys, time
opened = []
for _ in range(40):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    opened.append(s)
time.sleep(0.5)
held = 0
for s in opened:
    s.setblocking(False)
    try:
        closed = s.recv(1) == b""  # refused: PID 1 closed it at once
    except BlockingIOError:
        closed = False
    held += 0 if closed else 1
print(held, flush=True)
sys.stdin.read()
"""


def test():
    nobody = pwd.getpwnam("nobody")
    os.chmod(work, 0o755)
    config = os.path.join(work, "init.toml")
    with open(config, "w") as f:
        # No HTTP endpoint: other host tests may hold its port meanwhile.
        f.write('[vault]\nenabled = false\n[session]\nuser = "nobody"\nsocket = "%s"\n[health]\nhttp = false\n'
                % sock_path)
    log = open(os.path.join(work, "init.log"), "w+")
    init = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", TAZPOD, "init", "--config",
                             config, "--", "sleep", "1000"], stderr=log)
    holder = None
    try:
        for _ in range(100):
            if os.path.exists(sock_path):
                break
            time.sleep(0.05)
        holder = subprocess.Popen(
            ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups",
             sys.executable, "-c", HOLDER, sock_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        held = int(holder.stdout.readline())
        check(held == 24, "the workstation user holds %d connections, expected 24 (32 less 8 kept for root)" % held)
        health = subprocess.run([TAZPOD, "health", "--socket", sock_path, "--timeout", "3"], capture_output=True,
                                text=True)
        check(health.returncode == 0 and health.stdout.startswith("healthy"),
              "root's health check with the user's connections all taken: exit %d %r %r"
              % (health.returncode, health.stdout, health.stderr))
        log.seek(0)
        check("too_many_connections" in log.read(), "the user's refused connections were not logged")
    finally:
        if holder:
            holder.stdin.close()
            holder.wait(timeout=10)
        init.kill()
        init.wait()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
