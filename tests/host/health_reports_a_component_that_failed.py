"""A real `tazpod init` whose audit log cannot be opened (its directory does
not exist): PID 1 runs on, logs the failure, and health reports it as long
as init lives: /healthz answers 503 naming it, /status lists the component
as failed, /metrics sets tazpod_component_failed for it, and `tazpod health`
exits 1 saying why. Before, only the log said so and every probe was
green."""
import json
import os
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


def get(path):
    """(status, body) of GET `path`."""
    with socket.create_connection(("127.0.0.1", PORT), timeout=10) as s:
        s.sendall(("GET %s HTTP/1.0\r\n\r\n" % path).encode())
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    head, _, body = reply.decode().partition("\r\n\r\n")
    return int(head.split(" ", 2)[1]), body


def test():
    missing = os.path.join(work, "no-such-dir", "audit.log")
    init, log_path = start_init(TAZPOD, work, sock_path, PORT, 'audit_log = "%s"\n' % missing)
    try:
        check(eventually(lambda: healthz(PORT) is not None), "the health endpoint never answered")
        status, body = get("/healthz")
        check(status == 503 and body.startswith("audit_log failed: ") and missing in body,
              "/healthz with the audit log failed: %d %r" % (status, body))
        status, body = get("/status")
        components = {c["name"]: c for c in json.loads(body)["components"]}
        check("audit_log" in components and components["audit_log"]["failed"] is True
              and components["audit_log"]["state"] == "failed" and missing in components["audit_log"]["reason"],
              "/status components: %r" % components)
        check(components["reaper"]["failed"] is False, "/status: the reaper failed: %r" % components)
        status, body = get("/metrics")
        check('tazpod_component_failed{component="audit_log"} 1' in body.splitlines(),
              "/metrics has no failed audit_log:\n%s" % body)
        r = subprocess.run([TAZPOD, "health", "--socket", sock_path], capture_output=True, text=True, timeout=30)
        check(r.returncode == 1 and "audit_log failed" in r.stdout + r.stderr,
              "tazpod health: exit %d, %r" % (r.returncode, r.stdout + r.stderr))
        check(init.poll() is None, "init exited")
        with open(log_path) as f:
            text = f.read()
        check("init.component.failed component=audit_log" in text, "the log does not say so:\n%s" % text)
    finally:
        init.kill()  # unshare --kill-child takes init with it
        init.wait(timeout=30)


main(test)
