"""What the host tests of the health endpoint share: a port to give init,
and a probe of /healthz."""
import socket


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
