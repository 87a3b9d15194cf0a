"""A real `tazpod init` whose control socket cannot accept (PID 1 has no
descriptor left: its RLIMIT_NOFILE is lowered to its lowest free one while
a client waits in the backlog): /status says so, naming the error, and
stops saying so once the limit is raised and the client gets in. Before,
the control socket was reported `running` all the while, and the gate
counted as taking logins that could not reach it.

The /status requests go over one HTTP connection opened before the limit
was lowered (keep-alive), since a new one could not be accepted either."""
import http.client
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, eventually, main  # noqa: E402
from health_probe import free_port, healthz, start_init  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
work = tempfile.mkdtemp()
sock_path = os.path.join(work, "run", "control.sock")
PORT = free_port()


def pid1_of(unshare_pid):
    """The pid, seen from here, of the init that `unshare --fork` started."""
    def child():
        with open("/proc/%d/task/%d/children" % (unshare_pid, unshare_pid)) as f:
            pids = f.read().split()
        return int(pids[0]) if pids else None
    check(eventually(lambda: child() is not None), "unshare has no child")
    return child()


def lowest_free_descriptor(pid):
    used = {int(n) for n in os.listdir("/proc/%d/fd" % pid)}
    return next(n for n in range(len(used) + 1) if n not in used)


def control_socket(conn):
    """/status's entry for the control socket, asked over `conn`."""
    conn.request("GET", "/status")
    reply = conn.getresponse()
    body = reply.read()
    check(reply.status == 200, "/status: %d" % reply.status)
    status = json.loads(body)
    return {c["name"]: c for c in status["components"]}["control_socket"], status


def test():
    init, log_path = start_init(TAZPOD, work, sock_path, PORT)
    waiting = None
    try:
        check(eventually(lambda: healthz(PORT) is not None), "the health endpoint never answered")
        pid1 = pid1_of(init.pid)
        conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
        entry, _ = control_socket(conn)
        check(entry == {"name": "control_socket", "state": "running", "failed": False},
              "before: %r" % entry)

        soft, hard = resource.prlimit(pid1, resource.RLIMIT_NOFILE)
        resource.prlimit(pid1, resource.RLIMIT_NOFILE, (lowest_free_descriptor(pid1), hard))
        waiting = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        waiting.connect(sock_path)  # queued: PID 1 cannot take it
        check(eventually(lambda: control_socket(conn)[0]["state"] == "accept_failing"),
              "never reported accepting nothing: %r" % (control_socket(conn)[0],))
        entry, status = control_socket(conn)
        check(entry["failed"] is False and entry["reason"] == "Too many open files",
              "while accept fails: %r" % entry)
        check(status["accepting_logins"] is False, "accepting logins: %r" % status)
        check(init.poll() is None, "init exited")

        resource.prlimit(pid1, resource.RLIMIT_NOFILE, (soft, hard))
        check(eventually(lambda: control_socket(conn)[0]["state"] == "running"),
              "still reported accepting nothing: %r" % (control_socket(conn)[0],))
        entry, _ = control_socket(conn)
        check("reason" not in entry, "a reason once accepting works: %r" % entry)
        conn.close()
        # The client that waited is served; so is a new one.
        r = subprocess.run([TAZPOD, "health", "--socket", sock_path], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0, "tazpod health: exit %d, %r" % (r.returncode, r.stdout + r.stderr))
        with open(log_path) as f:
            text = f.read()
        check(text.count("control.accept_failed") == 1, "one line for the spell:\n%s" % text)
    finally:
        if waiting is not None:
            waiting.close()
        init.kill()  # unshare --kill-child takes init with it
        init.wait(timeout=30)


main(test)
