"""What the host tests of the health endpoint share: a port to give init,
and a probe of /healthz."""
import os
import socket
import subprocess


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def healthz(port):
    """The status of GET /healthz, or None when nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
            reply = s.recv(4096)
    except OSError:
        return None
    return int(reply.split(b" ", 2)[1]) if reply else None


def start_init(tazpod, work, sock_path, port, health_lines=""):
    """A real `tazpod init` as PID 1 of a fresh PID namespace, `sleep 600`
    its main child: no vault, root as the workstation user, its control
    socket at `sock_path`, its health endpoint on 127.0.0.1:`port`, and
    `health_lines` (more [health] keys, each ending in a newline). Returns
    the process (unshare's: killing it takes init with it) and the path of
    init's log."""
    config = os.path.join(work, "init.toml")
    with open(config, "w") as f:
        f.write('[vault]\nenabled = false\n[session]\nuser = "root"\nsocket = "%s"\n'
                '[health]\nlisten = "127.0.0.1:%d"\n%s' % (sock_path, port, health_lines))
    log_path = os.path.join(work, "init.log")
    with open(log_path, "w") as log:
        init = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", tazpod, "init",
                                 "--config", config, "--", "sleep", "600"], stderr=log)
    return init, log_path
