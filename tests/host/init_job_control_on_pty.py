"""An interactive bash as the main child of `tazpod init` on a real PTY has
working job control: Ctrl+Z stops the job, `fg` resumes it, Ctrl+C reaches
the job and not init, and `exit 3` makes init exit 3."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, children, eventually, main, proc_state  # noqa: E402

TAZPOD = os.environ["TAZPOD"]
PROMPT = r"tzp\$ $"


def find_sleep(root):
    """The `sleep 100` job among root's descendants."""
    todo = [root]
    while todo:
        pid = todo.pop()
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                if f.read().split(b"\0")[:2] == [b"sleep", b"100"]:
                    return pid
        except FileNotFoundError:
            continue
        todo.extend(children(pid))
    return None


def gone_or_zombie(pid):
    try:
        return proc_state(pid) == "Z"
    except FileNotFoundError:
        return True


def test():
    env = dict(os.environ, PS1="tzp$ ", TERM="xterm")
    child = PtyChild(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", TAZPOD, "init", "--",
                      "bash", "--norc", "--noprofile", "-i"], env)
    try:
        # Init logs the child's start after the vfork returns, and bash may
        # print its first prompt before or after that line: wait for both.
        child.expect(r"(?s)tzp\$ .*init\.child\.start[^\n]*\n|init\.child\.start.*tzp\$ $")
        child.send("sleep 100\n")
        check(eventually(lambda: find_sleep(child.pid) is not None), "the sleep job did not start")
        sleeper = find_sleep(child.pid)

        child.send(b"\x1a")  # Ctrl+Z
        child.expect(r"Stopped\s+sleep 100")
        child.expect(PROMPT)
        check(proc_state(sleeper) == "T", "Ctrl+Z did not stop the job (state %s)" % proc_state(sleeper))

        child.send("fg\n")
        child.expect(r"sleep 100")
        check(eventually(lambda: proc_state(sleeper) in ("S", "R")), "fg did not resume the job (state %s)" % proc_state(sleeper))

        child.send(b"\x03")  # Ctrl+C
        child.expect(PROMPT)
        check(eventually(lambda: gone_or_zombie(sleeper)), "Ctrl+C did not end the job")
        # Init would log the shutdown at once: give its line time to come,
        # then look at everything the terminal showed since the start.
        child.drain(0.5)
        check(b"init.shutdown" not in child.transcript, "Ctrl+C reached init and started a shutdown")

        child.send("exit 3\n")
        code = child.wait()
        check(code == 3, "init exited %d, expected 3 (the shell's exit code)" % code)
    finally:
        child.kill()


main(test)
