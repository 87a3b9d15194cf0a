"""The commands that read a passphrase refuse to when another process traces
them: non-dumpable, they keep new tracers of their user out, but a tracer
attached before (`strace tazpod passwd`, a debugger a process of the user's
started them under) would see every byte typed. Here the test itself is the
tracer (PTRACE_TRACEME before the exec): `tazpod vault unlock`, `tazpod
passwd` and `tazpod login` say why and ask nothing of PID 1 (a stand-in);
untraced, the same `vault unlock` reaches it."""
import ctypes
import os
import signal
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import check, main  # noqa: E402
from standin_pid1 import StandIn  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
PTRACE_TRACEME, PTRACE_CONT = 0, 7
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]
libc.ptrace.restype = ctypes.c_long


def run(argv, stdin=b"", traced=True):
    """Runs argv (traced by this process when `traced`), with `stdin`;
    returns its exit status and what it wrote to stdout and stderr."""
    env = dict(os.environ)
    # LeakSanitizer's exit check attaches to the process's threads, which a
    # tracer already holds.
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    stdin_r, stdin_w = os.pipe()
    out_r, out_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.dup2(stdin_r, 0)
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            if traced and libc.ptrace(PTRACE_TRACEME, 0, None, None) != 0:
                os._exit(90)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(91)
    os.close(stdin_r)
    os.close(out_w)
    os.write(stdin_w, stdin)
    os.close(stdin_w)
    while True:
        _, status = os.waitpid(pid, 0)
        if not os.WIFSTOPPED(status):
            break
        # The exec's SIGTRAP is ours; any other signal goes on to it.
        sig = os.WSTOPSIG(status)
        libc.ptrace(PTRACE_CONT, pid, None, ctypes.c_void_p(0 if sig == signal.SIGTRAP else sig))
    said = b""
    while True:
        chunk = os.read(out_r, 65536)
        if not chunk:
            break
        said += chunk
    os.close(out_r)
    return os.waitstatus_to_exitcode(status), said.decode(errors="replace")


def test():
    pid1 = StandIn()
    pid1.replies["vault.unlock"] = {"v": 1, "ok": True, "state": "unlocked"}
    pid1.replies["gate.status"] = {"v": 1, "ok": True, "vault": "unlocked", "first_login": False, "min_length": 8,
                                   "sessions": 1, "retry_after_ms": 0, "change_retry_after_ms": 0}
    unlock = [TAZPOD, "vault", "unlock", "--passphrase-stdin", "--socket", pid1.path]

    code, said = run(unlock, b"a passphrase\n")
    check(code == 1, "traced vault unlock exited %d, not 1: %r" % (code, said))
    check("traced by process %d" % os.getpid() in said, "traced vault unlock did not name its tracer: %r" % said)
    check(pid1.asked == [], "traced vault unlock asked PID 1: %r" % pid1.asked)

    code, said = run([TAZPOD, "passwd", "--socket", pid1.path])
    check(code == 1, "traced passwd exited %d, not 1: %r" % (code, said))
    check("traced by process" in said and "refusing" in said, "traced passwd did not say why: %r" % said)

    code, said = run([TAZPOD, "login", "--socket", pid1.path])
    check(code == 2, "traced login exited %d, not 2: %r" % (code, said))
    check("traced by process" in said and "refusing" in said, "traced login did not say why: %r" % said)
    check(pid1.asked == [], "a traced command asked PID 1: %r" % pid1.asked)

    # The control: untraced, the same unlock is sent.
    code, said = run(unlock, b"a passphrase\n", traced=False)
    check(code == 0, "untraced vault unlock exited %d: %r" % (code, said))
    check(pid1.asked == ["vault.unlock"], "untraced vault unlock asked %r" % pid1.asked)


main(test)
