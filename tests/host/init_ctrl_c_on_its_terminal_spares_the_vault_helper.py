"""`docker run -it IMAGE` with no command: init idles as the session leader
of a real terminal, its group in the foreground. Ctrl+C stops the
container, and the shutdown's lock runs in a vault helper; a second Ctrl+C
while it runs is for init to ignore, and must not reach the helper either,
or the lock is killed half-way, the vault stays unlocked and init exits 3.
The helper here is a stand-in (the real one needs dm-crypt: the vm tier)
whose lock takes a while; it records what it got."""
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, eventually, main  # noqa: E402

TAZPOD = os.environ["TAZPOD"]

HELPER = r"""#!/bin/sh
# A vault helper's protocol (vault/helper_main.cc): the operation as the
# argument, or on the first line of stdin for a pre-started one.
dir=$(dirname "$0")
op=$1
if [ "$op" = standby ]; then IFS= read -r op; fi
case $op in
  recover) echo "result=ok state=locked" ;;
  lock)
    : > "$dir/lock.started"
    sleep 2
    : > "$dir/lock.done"
    echo "result=ok state=locked" ;;
  *) cat > /dev/null; echo "result=ok state=unlocked" ;;
esac
"""


def test():
    with tempfile.TemporaryDirectory() as d:
        helper = os.path.join(d, "helper")
        with open(helper, "w") as f:
            f.write(HELPER)
        os.chmod(helper, 0o755)
        socket = os.path.join(d, "control.sock")
        config = os.path.join(d, "init.toml")
        with open(config, "w") as f:
            f.write('[vault]\nhelper = "%s"\nprivate_mount_namespace = false\n'
                    '[session]\nuser = "root"\nsocket = "%s"\n[health]\nhttp = false\n' % (helper, socket))
        # setsid -c: init leads the terminal's session, as PID 1 of
        # `docker run -it` does.
        child = PtyChild(["unshare", "--pid", "--fork", "--mount-proc", "--kill-child",
                          "setsid", "-c", TAZPOD, "init", "--config", config])
        try:
            # The socket listens before the vault's start-up recovery (a
            # helper run) is done, and an unlock meanwhile is refused busy.
            child.expect(r"(?s)control\.listen.*vault\.recover\.done|vault\.recover\.done.*control\.listen")
            with os.popen("printf 'a passphrase\\n' | %s vault unlock --socket %s --passphrase-stdin 2>&1; echo rc=$?"
                          % (TAZPOD, socket)) as p:
                out = p.read()
            check("rc=0" in out, "the stand-in unlock failed: %s" % out)

            child.send(b"\x03")  # Ctrl+C: stop the container
            check(eventually(lambda: os.path.exists(os.path.join(d, "lock.started"))),
                  "the shutdown's lock did not start; terminal showed:\n%s" % child.drain().decode(errors="replace"))
            child.send(b"\x03")  # again, while the lock runs
            code = child.wait(timeout=30)
            log = child.output.decode(errors="replace")
            check(os.path.exists(os.path.join(d, "lock.done")),
                  "the lock's helper did not finish; init's log:\n%s" % log)
            check("helper was killed" not in log, "a vault helper was killed; init's log:\n%s" % log)
            check(code == 0, "init exited %d, expected 0 (the vault locked); its log:\n%s" % (code, log))
        finally:
            child.kill()


main(test)
