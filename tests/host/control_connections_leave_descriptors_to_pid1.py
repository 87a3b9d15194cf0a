"""Under a low descriptor limit, the workstation user's control
connections must not take the descriptors PID 1's other work needs. Each
holds three (socket, deadline timerfd, peer pidfd), so the 24 the user
may hold would take 72: with `RLIMIT_NOFILE` at 100, the user's next
connection is refused once one more would leave fewer than 64 free
(`control.refused reason=too_few_descriptors`), init then holds no more
than the limit less those 64, and root's `tazpod health` (Docker's
HEALTHCHECK), which the floor does not hold back, is still answered.
Before, the user held all 24 and init ran out."""
import faulthandler
import os
import pwd
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, eventually, main  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
LIMIT = 100
KEPT_FREE = 64
work = tempfile.mkdtemp()
sock_path = os.path.join(work, "run", "control.sock")

# Run as the workstation user: opens 40 connections, says how many PID 1
# kept (all within its 5 s read timeout), and holds them silent until its
# stdin closes.
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


def init_pid(unshare_pid):
    with open("/proc/%d/task/%d/children" % (unshare_pid, unshare_pid)) as f:
        children = f.read().split()
    return int(children[0]) if children else None


def open_descriptors(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def test():
    nobody = pwd.getpwnam("nobody")
    os.chmod(work, 0o755)
    config = os.path.join(work, "init.toml")
    with open(config, "w") as f:
        # No HTTP endpoint: other host tests may hold its port meanwhile.
        f.write('[vault]\nenabled = false\n[session]\nuser = "nobody"\nsocket = "%s"\n[health]\nhttp = false\n'
                % sock_path)
    log = open(os.path.join(work, "init.log"), "w+")
    init = subprocess.Popen(["prlimit", "--nofile=%d:%d" % (LIMIT, LIMIT), "unshare", "--pid", "--fork",
                             "--mount-proc", "--kill-child", TAZPOD, "init", "--config", config, "--",
                             "sleep", "1000"], stderr=log)
    holder = None
    try:
        check(eventually(lambda: os.path.exists(sock_path)), "init made no control socket")
        pid1 = init_pid(init.pid)
        check(pid1 is not None, "no init under unshare")
        at_start = open_descriptors(pid1)
        holder = subprocess.Popen(
            ["setpriv", "--reuid=%d" % nobody.pw_uid, "--regid=%d" % nobody.pw_gid, "--clear-groups",
             sys.executable, "-c", HOLDER, sock_path],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        held = int(holder.stdout.readline())
        in_init = open_descriptors(pid1)
        print("the user holds %d connections; init holds %d descriptors (%d at start) of %d"
              % (held, in_init, at_start, LIMIT))
        check(0 < held < 24, "the workstation user holds %d connections under a limit of %d" % (held, LIMIT))
        check(in_init <= LIMIT - KEPT_FREE, "init holds %d descriptors of %d with the user's %d connections"
              % (in_init, LIMIT, held))
        log.seek(0)
        check("reason=too_few_descriptors" in log.read(), "the user's refused connections were not logged so")
        health = subprocess.run([TAZPOD, "health", "--socket", sock_path, "--timeout", "3"], capture_output=True,
                                text=True)
        check(health.returncode == 0 and health.stdout.startswith("healthy"),
              "root's health check with the user at the floor: exit %d %r %r"
              % (health.returncode, health.stdout, health.stderr))
    finally:
        if holder:
            holder.stdin.close()
            holder.wait(timeout=10)
        init.kill()
        init.wait()


faulthandler.dump_traceback_later(60, exit=True)
main(test)
