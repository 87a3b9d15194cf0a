"""A stand-in PID 1 for host tests of the client commands: a control socket
that answers each op with a reply the test chose, framed as PID 1 frames
them (session/protocol.h). Only the standard library."""
import json
import os
import socket
import struct
import tempfile
import threading


def _read_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


class StandIn:
    """Serves `replies` (op -> reply header) on `path`, one request and one
    reply per connection; the secret part is read and dropped. `asked` lists
    the ops asked, in order. A reply of None closes the connection without
    one, as a PID 1 that failed half way would. An op in `held` (op ->
    threading.Event) has its reply wait until the test sets the event. Once
    `accepting` (a threading.Event, set at first) is cleared, it accepts no
    connection after the one it serves, until it is set again: a PID 1
    whose backlog fills."""

    def __init__(self):
        self.path = os.path.join(tempfile.mkdtemp(), "control.sock")
        self.replies = {}
        self.asked = []
        self.held = {}
        self.accepting = threading.Event()
        self.accepting.set()
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._listener.bind(self.path)
        self._listener.listen(16)
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            conn, _ = self._listener.accept()
            with conn:
                self._answer(conn)
            self.accepting.wait()

    def _answer(self, conn):
        try:
            header = json.loads(_read_exactly(conn, struct.unpack(">I", _read_exactly(conn, 4))[0]))
            _read_exactly(conn, struct.unpack(">I", _read_exactly(conn, 4))[0])
        except (EOFError, ValueError, OSError):
            return
        self.asked.append(header.get("op"))
        if header.get("op") in self.held:
            self.held[header.get("op")].wait(60)
        reply = self.replies.get(header.get("op"), {"v": 1, "ok": False, "error": "no such op"})
        if reply is None:
            return
        body = json.dumps(reply).encode()
        try:
            conn.sendall(struct.pack(">I", len(body)) + body)
        except OSError:  # the client left without the reply
            pass


def answer_passwd_prompts(passwd, old="old passphrase", new="new passphrase"):
    """Types the current passphrase and the new one twice into the prompts
    of `tazpod passwd` (a ptyexpect.PtyChild)."""
    passwd.expect("Current passphrase: ")
    passwd.send(old + "\r")
    passwd.expect("New passphrase: ")
    passwd.send(new + "\r")
    passwd.expect("Repeat it: ")
    passwd.send(new + "\r")
