"""The health endpoint of a real `tazpod init` (PID 1 of a PID namespace):
/healthz, /readyz, /status and /metrics answer with the right status and
body shape (the JSON parses; the metrics pass `promtool check metrics` when
TAZPOD_PROMTOOL names one, as scripts/test arranges); 404 and 405; an
oversized header; a slow-loris client dropped while others are served; a
flood of connections from loopback bounded in count and in time while init
goes on reaping a stream of orphans; and `tazpod health`: 0 with a healthy
supervisor, 1 without one, 1 (not a hang) with one that never answers, and
with one whose backlog is full (connect() would wait)."""
import faulthandler
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, eventually, main  # noqa: E402
from health_probe import free_port, healthz  # noqa: E402
from control_holder import serving  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
PROMTOOL = os.environ.get("TAZPOD_PROMTOOL", "")
work = tempfile.mkdtemp()
sock_path = os.path.join(work, "run", "control.sock")


PORT = free_port()


def request(raw, timeout=10):
    """Sends raw bytes to the endpoint; returns (status, headers+body text) or (None, '') if closed."""
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    try:
        s.sendall(raw)
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    finally:
        s.close()
    if not buf:
        return None, ""
    text = buf.decode(errors="replace")
    return int(text.split(" ", 2)[1]), text


def get(path):
    return request(("GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n" % path).encode())


def body(text):
    return text.split("\r\n\r\n", 1)[1]


def zombies_under(pid):
    count = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == pid:
            count += 1
    return count


def tazpod_health(*args, timeout=30):
    start = time.monotonic()
    r = subprocess.run([TAZPOD, "health", *args], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout.strip(), time.monotonic() - start


def test():
    config = os.path.join(work, "init.toml")
    with open(config, "w") as f:
        f.write('[vault]\nenabled = false\n[session]\nuser = "root"\nsocket = "%s"\n'
                '[health]\nlisten = "127.0.0.1:%d"\nmax_connections = 8\nread_timeout = "1s"\n' % (sock_path, PORT))
    log = open(os.path.join(work, "init.log"), "w+")
    # The main child leaves an orphan behind every few milliseconds.
    orphans = "while :; do (sleep 0.001 &); sleep 0.005; done"
    init = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", TAZPOD, "init",
                             "--config", config, "--", "sh", "-c", orphans], stderr=log)
    try:
        # The endpoint listens after the control sockets do.
        check(eventually(lambda: serving(sock_path)), "init's control sockets take no connections")
        check(eventually(lambda: healthz(PORT) == 200), "the health endpoint does not answer")
        with open("/proc/%d/task/%d/children" % (init.pid, init.pid)) as f:
            pid1 = int(f.read().split()[0])

        status, text = get("/healthz")
        check(status == 200 and body(text) == "ok\n", "/healthz: %r" % text)
        check("Cache-Control: no-store" in text, "/healthz may be cached: %r" % text)
        status, text = get("/readyz")
        check(status == 503 and "not accepting logins" in body(text), "/readyz without a vault: %r" % text)
        status, text = get("/status")
        check(status == 200 and "application/json" in text, "/status: %r" % text)
        check(body(text).endswith("}\n") and not body(text).endswith("\n\n"),
              "/status must end in one newline: %r" % body(text)[-20:])
        doc = json.loads(body(text))
        for key in ("healthy", "ready", "version", "uptime_seconds", "vault", "sessions", "components", "counters"):
            check(key in doc, "/status lacks %s: %r" % (key, doc))
        check(doc["healthy"] is True and doc["vault"]["state"] == "disabled", "/status: %r" % doc)
        status, text = get("/metrics")
        check(status == 200 and "text/plain; version=0.0.4" in text, "/metrics: %r" % text[:300])
        metrics = body(text)
        for name in ("tazpod_build_info", "tazpod_healthy 1", "tazpod_sessions", "tazpod_zombies_reaped_total",
                     "tazpod_vault_unlock_duration_seconds_bucket", "tazpod_logins_total"):
            check(name in metrics, "/metrics lacks %s" % name)
        if PROMTOOL:
            r = subprocess.run([PROMTOOL, "check", "metrics"], input=metrics, capture_output=True, text=True)
            check(r.returncode == 0, "promtool check metrics: %s%s" % (r.stdout, r.stderr))
        status, _ = get("/no/such/page")
        check(status == 404, "unknown path: %r" % status)
        status, text = request(b"POST /healthz HTTP/1.0\r\nContent-Length: 0\r\n\r\n")
        check(status == 405, "POST: %r" % text)
        status, text = request(b"GET /healthz HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n")
        check(status in (431, None), "oversized header: %r" % text[:200])

        # Slow loris: half a request, then silence. Dropped after the read
        # timeout (1 s here); another client is served meanwhile.
        slow = socket.create_connection(("127.0.0.1", PORT))
        slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        status, _ = get("/healthz")
        check(status == 200, "a client beside a slow one: %r" % status)
        slow.settimeout(10)
        start = time.monotonic()
        check(slow.recv(100) == b"", "the slow client got an answer")
        check(time.monotonic() - start < 5, "the slow client was held for %.1f s" % (time.monotonic() - start))
        slow.close()

        def reaped_so_far():
            _, page = get("/metrics")
            lines = [ln for ln in body(page).splitlines() if ln.startswith("tazpod_zombies_reaped_total ")]
            check(lines, "no tazpod_zombies_reaped_total in /metrics")
            return float(lines[0].split()[1])

        # A flood from loopback: 200 connections at once, each asking once.
        reaped_before = reaped_so_far()
        results = []
        lock = threading.Lock()

        def one():
            try:
                st, _ = get("/healthz")
            except OSError:
                st = "error"
            with lock:
                results.append(st)
        start = time.monotonic()
        threads = [threading.Thread(target=one) for _ in range(200)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        flood_s = time.monotonic() - start
        check(len(results) == 200, "flood: only %d of 200 connections ended" % len(results))
        check(flood_s < 20, "flood took %.1f s" % flood_s)
        served = results.count(200)
        check(served >= 8, "flood: only %d served" % served)
        print("flood: %d served, %d refused or closed, %.2f s" % (served, 200 - served, flood_s))
        time.sleep(0.3)
        check(zombies_under(pid1) <= 3, "zombies piled up under init during the flood: %d" % zombies_under(pid1))
        reaped_after = reaped_so_far()
        check(reaped_after > reaped_before, "init did not reap during the flood: %d, then %d" % (reaped_before, reaped_after))
        print("reaped during the flood and after: %d (before: %d)" % (reaped_after - reaped_before, reaped_before))

        rc, out, _ = tazpod_health("--socket", sock_path)
        check(rc == 0 and out.startswith("healthy:"), "tazpod health: %d %r" % (rc, out))

        os.kill(pid1, 15)
        init.wait(timeout=20)
        rc, out, _ = tazpod_health("--socket", sock_path)
        check(rc == 1 and out.startswith("unhealthy:"), "tazpod health without a supervisor: %d %r" % (rc, out))

        # A supervisor that accepts and never answers: unhealthy, in bounded time.
        os.makedirs(os.path.dirname(sock_path), exist_ok=True)
        if os.path.exists(sock_path):
            os.unlink(sock_path)
        hung = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        hung.bind(sock_path)
        hung.listen(5)
        rc, out, took = tazpod_health("--socket", sock_path, "--timeout", "1")
        check(rc == 1 and "did not answer" in out, "tazpod health with a hung supervisor: %d %r" % (rc, out))
        check(took < 10, "tazpod health took %.1f s against a hung supervisor" % took)
        hung.close()
        # One that does not even accept, its backlog full: connect() itself
        # would wait for ever, so the timeout must cover it too.
        os.unlink(sock_path)
        stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stalled.bind(sock_path)
        stalled.listen(0)
        queued = []
        for _ in range(2):  # the first fills a backlog of 0; the second makes sure
            c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            c.setblocking(False)
            try:
                c.connect(sock_path)
            except BlockingIOError:
                pass
            queued.append(c)
        rc, out, took = tazpod_health("--socket", sock_path, "--timeout", "1")
        check(rc == 1 and "cannot reach" in out, "tazpod health with a full backlog: %d %r" % (rc, out))
        check(took < 10, "tazpod health took %.1f s against a full backlog" % took)
        for c in queued:
            c.close()
        stalled.close()
        log.seek(0)
        check("init.component.failed" not in log.read(), "a component failed")
    finally:
        if init.poll() is None:
            init.kill()


faulthandler.dump_traceback_later(90, exit=True)
main(test)
