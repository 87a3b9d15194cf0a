"""A real `tazpod init` with `health.max_connections = 1024` and a
descriptor limit of 256 (the soft limit some runtimes still set is 1024):
clients that open more HTTP connections than PID 1 has descriptors for
must not take the ones its other work needs. With 400 connections held
open, the control socket still accepts (`tazpod health` says healthy), a
new probe is answered, and init holds fewer descriptors than its limit
less the 64 it keeps free. Before, the connections took every descriptor
and the control socket could accept nothing."""
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, children, eventually, main, open_descriptors  # noqa: E402
from health_probe import free_port, healthz  # noqa: E402
from control_holder import serving  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
LIMIT = 256
KEPT_FREE = 64
CLIENTS = 400
work = tempfile.mkdtemp()
sock_path = os.path.join(work, "run", "control.sock")


def test():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < CLIENTS + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, CLIENTS + 256), hard))
    port = free_port()
    config = os.path.join(work, "init.toml")
    with open(config, "w") as f:
        f.write('[vault]\nenabled = false\n[session]\nuser = "root"\nsocket = "%s"\n'
                '[health]\nlisten = "127.0.0.1:%d"\nmax_connections = 1024\nread_timeout = "60s"\n'
                % (sock_path, port))
    log = open(os.path.join(work, "init.log"), "w+")
    init = subprocess.Popen(["prlimit", "--nofile=%d:%d" % (LIMIT, LIMIT), "unshare", "--pid", "--fork",
                             "--mount-proc", "--kill-child", TAZPOD, "init", "--log-level", "debug",
                             "--config", config, "--", "sleep", "600"], stderr=log)
    clients = []
    try:
        check(eventually(lambda: serving(sock_path)), "init's control sockets take no connections")
        check(eventually(lambda: healthz(port) == 200), "the endpoint does not answer")
        under_unshare = children(init.pid)
        check(under_unshare, "no init under unshare")
        pid1 = under_unshare[0]
        at_start = open_descriptors(pid1)

        for _ in range(CLIENTS):
            clients.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        # Init accepts them as fast as it can; the evictions show it has
        # come to the floor.
        check(eventually(lambda: "reason=too_few_descriptors" in open(log.name).read(), seconds=20),
              "no connection was let go for want of descriptors (init holds %d)" % open_descriptors(pid1))
        time.sleep(1)  # the rest of the backlog
        held = open_descriptors(pid1)
        check(held <= LIMIT - KEPT_FREE + 1,
              "init holds %d descriptors of %d with %d connections open (%d at start)" % (held, LIMIT, CLIENTS, at_start))

        r = subprocess.run([TAZPOD, "health", "--socket", sock_path], capture_output=True, text=True, timeout=30)
        check(r.returncode == 0 and r.stdout.startswith("healthy"),
              "tazpod health with the HTTP connections crowding: %d %r" % (r.returncode, r.stdout + r.stderr))
        check(healthz(port) == 200, "a new probe was not answered")
        print("init held %d descriptors (%d at start) with %d connections open" % (held, at_start, CLIENTS))
    finally:
        for c in clients:
            c.close()
        init.kill()  # unshare --kill-child takes init with it
        init.wait(timeout=30)
        log.close()


main(test)
