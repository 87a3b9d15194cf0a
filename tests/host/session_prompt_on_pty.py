"""The passphrase prompt on a real PTY: typed text is never echoed, editing
works, a NUL (Ctrl+@) is not taken, and Enter on an empty line, Ctrl+C,
Ctrl+\\, Ctrl+Z, Ctrl+D, SIGTERM (alone, or with more signals pending),
any other signal that would end the process, a hangup, a timeout and an
over-long input all end it without a passphrase, the terminal's mode
restored every time. Stopped and resumed, it puts raw mode back; in the
background, it refuses."""
import os
import re
import signal
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "lib"))
from ptyexpect import PtyChild, check, children, eventually, main, proc_state  # noqa: E402

PROBE = os.environ["TAZPOD_PROMPT_PROBE"]
SECRET = "s3cret pass"
RESTORED = "echo=on icanon=on isig=on"


def unused_path():
    """A path in the temporary directory where nothing is yet: the probe's
    result file, which it creates."""
    fd, path = tempfile.mkstemp()
    os.close(fd)
    os.unlink(path)
    return path


def remove_if_there(*paths):
    for path in paths:
        if os.path.exists(path):
            os.unlink(path)


def run(keys, expect_result, timeout_ms=10000, after=None, expected=SECRET):
    """Types `keys` at the prompt (or runs `after(child)`), returns the probe's line."""
    result_file = unused_path()
    env = dict(os.environ, PROBE_EXPECTED=expected)
    child = PtyChild([PROBE, result_file, str(timeout_ms)], env)
    try:
        child.expect("Passphrase: ")
        if keys:
            child.send(keys)
        if after:
            after(child)
        code = child.wait(timeout=15)
        check(os.path.exists(result_file), "the probe wrote no result (exit status %d)" % code)
        with open(result_file) as f:
            line = f.read().strip()
        check(line.startswith("result=%s " % expect_result), "expected result=%s, probe said: %s" % (expect_result, line))
        check(SECRET.encode() not in child.output and b"s3cret" not in child.output and b"ret pass" not in child.output,
              "the passphrase was echoed: %r" % child.output)
        check(code == (0 if expect_result == "ok" else 1), "probe exit status %d" % code)
        if expect_result != "terminal hung up":  # a dead terminal has no mode to restore
            check(line.endswith(RESTORED), "terminal mode not restored: " + line)
        if expect_result != "ok":
            check(" length=0 " in line, "a passphrase survived a failed prompt: " + line)
        print("%-40.40r -> %s" % (keys, line))
        return line
    finally:
        child.kill()
        remove_if_there(result_file)


def hang_up(child):
    time.sleep(0.2)
    child.hang_up()  # the terminal goes away: the probe gets SIGHUP / EIO


def sigterm(child):
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGTERM)


def send_after_a_moment(sig):
    def send(child):
        time.sleep(0.2)
        os.kill(child.pid, sig)
    return send


def stop(child):
    """SIGSTOP, which no process can hold, a moment into the prompt; returns
    once the probe is stopped."""
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGSTOP)
    check(eventually(lambda: proc_state(child.pid) == "T"), "the probe did not stop")


def resume_as_a_shell_does(child):
    """What a job-control shell does when its stopped job is brought back
    (fg): the terminal put back in the shell's mode (echo on, canonical),
    then SIGCONT. Returns once the prompt has started again."""
    slave = os.open(os.readlink("/proc/%d/fd/0" % child.pid), os.O_RDWR | os.O_NOCTTY)
    try:
        mode = termios.tcgetattr(slave)
        mode[3] |= termios.ECHO | termios.ICANON | termios.ISIG
        termios.tcsetattr(slave, termios.TCSANOW, mode)
    finally:
        os.close(slave)
    os.kill(child.pid, signal.SIGCONT)
    child.expect("Passphrase: ")


def many_signals_at_once(child):
    """SIGTERM, SIGINT and SIGUSR1 all pending when the prompt wakes up: the
    probe is stopped while they are sent. One answer for all of them; before,
    the second killed the probe as the prompt restored the signal mask."""
    stop(child)
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1):
        os.kill(child.pid, sig)
    os.kill(child.pid, signal.SIGCONT)


def terminal_mode(pid):
    """The lflag of the terminal of process `pid`."""
    slave = os.open(os.readlink("/proc/%d/fd/0" % pid), os.O_RDWR | os.O_NOCTTY)
    try:
        return termios.tcgetattr(slave)[3]
    finally:
        os.close(slave)


def stopped_and_resumed(child):
    """Stopped, then resumed as a shell resumes its job: the prompt must put
    raw mode back before it reads on, and start again (what was typed
    meanwhile was echoed). Before, the rest of the passphrase was echoed."""
    stop(child)
    resume_as_a_shell_does(child)
    check(not terminal_mode(child.pid) & termios.ECHO, "echo is on again at the new prompt")
    child.send(SECRET + "\r")


def stopped_longer_than_the_timeout(child):
    """Stopped for longer than the prompt's whole timeout, then resumed in
    the foreground: the prompt starts again with its full time. Before, it
    timed out at once."""
    stop(child)
    time.sleep(2.0)
    resume_as_a_shell_does(child)
    child.send(SECRET + "\r")


def probe_on(argv, env, keys=None, after=None):
    """Runs the probe as `argv` (RESULT: its result file) on a PTY, types
    `keys` at its prompt or runs `after(child, result_file)`; returns (the
    probe's line, its exit status, the terminal's output)."""
    result_file = unused_path()
    child = PtyChild([result_file if a == "RESULT" else a for a in argv], env)
    try:
        child.expect("Passphrase: ")
        if keys:
            child.send(keys)
        if after:
            after(child, result_file)
        code = child.wait(timeout=15)
        check(os.path.exists(result_file), "the probe wrote no result (exit status %d)" % code)
        with open(result_file) as f:
            return f.read().strip(), code, child.output
    finally:
        child.kill()
        remove_if_there(result_file)


def typed_on_a_terminal_that_changes_bytes():
    """A terminal left with ISTRIP (the eighth bit of each byte taken off),
    IUCLC (capitals lowered) and PARMRK: the passphrase must reach the
    prompt as typed, or the same passphrase typed on another terminal would
    not open the vault. Before, the prompt kept those flags."""
    secret = "S3cret p\u00e4ss"
    line, code, _ = probe_on(["sh", "-c", 'stty istrip iuclc parmrk && exec "$0" "$1" 10000', PROBE, "RESULT"],
                             dict(os.environ, PROBE_EXPECTED=secret), keys=secret + "\r")
    check(code == 0 and "matches=yes" in line, "typed on an ISTRIP IUCLC terminal: %s (exit %d)" % (line, code))
    print("on an istrip iuclc parmrk terminal -> %s" % line)


def a_late_sighup_after_a_hangup():
    """The terminal hangs up; the prompt says so. A SIGHUP that comes after
    (the kernel's, or a shell's) must not end the process before it exits
    with its own code. Before, it died of that SIGHUP (exit 129)."""
    def hang_up_then_sighup(child, result_file):
        hang_up(child)
        check(eventually(lambda: os.path.exists(result_file)), "the probe wrote no result after the hangup")
        os.kill(child.pid, signal.SIGHUP)
    line, code, _ = probe_on([PROBE, "RESULT", "10000"], dict(os.environ, PROBE_EXPECTED=SECRET, PROBE_LINGER_MS="1000"),
                             after=hang_up_then_sighup)
    check(line.startswith("result=terminal hung up"), "after a hangup: " + line)
    check(code == 1, "a SIGHUP after the hangup ended the probe: exit status %d" % code)
    print("a late SIGHUP after a hangup -> exit %d" % code)


def a_hangup_seen_by_a_prompt_that_does_not_lead_the_session():
    """The terminal hangs up under a prompt run from a shell (`tazpod passwd`
    in a session, `tazpod login` from `docker exec -it c bash`): the kernel
    sends its SIGHUP to the session's leader only, and the prompt's read
    returns 0. That is a hangup, and a SIGHUP the shell passes on afterwards
    must not end the prompt before it exits with its own code. Before, it
    said "end of input" and died of that SIGHUP (exit 129)."""
    result_file = unused_path()
    code_file = result_file + ".code"
    # The shell outlives the kernel's SIGHUP (a handler, which its child
    # does not inherit) to report the probe's exit status.
    child = PtyChild(["bash", "-c", 'trap : HUP; "$0" "$1" 10000; echo $? > "$1.code"', PROBE, result_file],
                     dict(os.environ, PROBE_EXPECTED=SECRET, PROBE_LINGER_MS="1000"))
    try:
        child.expect("Passphrase: ")
        probes = children(child.pid)
        check(len(probes) == 1, "the shell's children: %r" % probes)
        child.hang_up()
        check(eventually(lambda: os.path.exists(result_file)), "the probe wrote no result after the hangup")
        os.kill(probes[0], signal.SIGHUP)
        check(eventually(lambda: os.path.exists(code_file) and os.path.getsize(code_file) > 0),
              "the shell did not report the probe's exit")
        with open(result_file) as f:
            line = f.read().strip()
        with open(code_file) as f:
            code = f.read().strip()
        check(line.startswith("result=terminal hung up"), "a hangup under a shell: " + line)
        check(code == "1", "a SIGHUP after the hangup ended the probe: exit status %s" % code)
        print("a hangup under a shell -> %s, exit %s" % (line, code))
    finally:
        child.kill()
        remove_if_there(result_file, code_file)


def ended(pid):
    """Whether process `pid` has exited (a zombie, or reaped)."""
    try:
        return proc_state(pid) == "Z"
    except FileNotFoundError:
        return True


def ended_while_stopped_leaves_the_shell_its_terminal():
    """Stopped at the prompt (SIGSTOP: Ctrl+Z reaches it as a key), the job's
    shell takes the terminal back and restores its own mode; someone types
    the start of a line; then the job is ended as `kill %1` ends a stopped
    job, SIGTERM and SIGCONT at once. The prompt must leave the terminal, now
    the shell's, alone: before, it put back the mode it had found, with
    TCSAFLUSH, throwing away what was typed for the shell."""
    result_file = unused_path()
    child = PtyChild(["bash", "-c", 'set -m; "$0" "$1" 10000; echo stopped; read -r -t 20 line; echo "got=[$line]"',
                      PROBE, result_file], dict(os.environ, PROBE_EXPECTED=SECRET))
    try:
        child.expect("Passphrase: ")
        probes = children(child.pid)
        check(len(probes) == 1, "the shell's children: %r" % probes)
        os.kill(probes[0], signal.SIGSTOP)
        child.expect("stopped")
        slave = os.open(os.readlink("/proc/%d/fd/0" % child.pid), os.O_RDWR | os.O_NOCTTY)
        try:
            mode = termios.tcgetattr(slave)
            mode[0] |= termios.ICRNL
            mode[3] |= termios.ECHO | termios.ICANON | termios.ISIG
            termios.tcsetattr(slave, termios.TCSANOW, mode)
        finally:
            os.close(slave)
        child.send("typed ahead")
        child.expect("typed ahead")  # echoed: the line is in the terminal's buffer
        os.kill(probes[0], signal.SIGTERM)
        os.kill(probes[0], signal.SIGCONT)
        check(eventually(lambda: os.path.exists(result_file) and os.path.getsize(result_file) > 0),
              "the probe wrote no result")
        check(eventually(lambda: ended(probes[0])), "the probe did not end")
        child.send(" for the shell\r")
        child.expect(r"got=\[[^\]]*\]")
        got = child.transcript.decode(errors="replace")
        check("got=[typed ahead for the shell]" in got, "the shell's typed-ahead line was thrown away: %r" % got)
        print("ended while stopped -> the shell's line kept")
    finally:
        child.kill()
        remove_if_there(result_file)


def continued_without_a_stop(child):
    """A SIGCONT that stopped nothing (any process of the session may send
    one): the prompt goes on, keeping what was typed."""
    time.sleep(0.2)
    os.kill(child.pid, signal.SIGCONT)
    time.sleep(0.2)
    child.send("ret pass\r")


def resumed_in_the_background():
    """Stopped at the prompt, then resumed in the background (`bg`) by its
    job-control shell: the prompt ends, leaving the terminal, now the
    shell's, alone."""
    result_file = unused_path()
    child = PtyChild(["bash", "-c", 'set -m; "$0" "$1" 10000; bg %1; wait', PROBE, result_file],
                     dict(os.environ, PROBE_EXPECTED=SECRET))
    try:
        child.expect("Passphrase: ")
        probes = children(child.pid)
        check(len(probes) == 1, "the shell's children: %r" % probes)
        os.kill(probes[0], signal.SIGSTOP)
        code = child.wait(timeout=15)
        check(os.path.exists(result_file), "the probe wrote no result (shell exit status %d)" % code)
        with open(result_file) as f:
            line = f.read().strip()
        check(line.startswith("result=not in the terminal's foreground"), "resumed in the background: " + line)
        print("resumed in the background -> %s" % line)
    finally:
        child.kill()
        remove_if_there(result_file)


def refused_before_the_prompt(argv, expect_result, what):
    """Runs `argv` (which runs the probe with a result file, given as RESULT)
    on a PTY, where the probe must refuse before any prompt, saying
    `expect_result`; returns (the probe's line, the exit status, the
    terminal's output)."""
    result_file = unused_path()
    child = PtyChild([result_file if a == "RESULT" else a for a in argv], dict(os.environ, PROBE_EXPECTED=SECRET))
    try:
        code = child.wait(timeout=15)
        check(os.path.exists(result_file), "the probe wrote no result (exit status %d)" % code)
        with open(result_file) as f:
            line = f.read().strip()
        check(line.startswith("result=" + expect_result), "%s, the probe said: %s" % (what, line))
        check(b"Passphrase:" not in child.output, "%s, the prompt was shown: %r" % (what, child.output))
        print("%s -> %s" % (what, line))
        return line, code, child.output
    finally:
        child.kill()
        remove_if_there(result_file)


def not_in_the_foreground():
    """Started as a background job of a job-control shell (`set -m`: its own
    process group, not the terminal's foreground one), the prompt refuses at
    once: it would otherwise switch the terminal the foreground uses to raw
    mode, echo off, and its reads would fail as a hangup."""
    _, _, output = refused_before_the_prompt(
        ["bash", "-c", 'set -m; "$0" "$1" 10000 & wait $!; stty -a', PROBE, "RESULT"],
        "not in the terminal's foreground", "in the background")
    check(re.search(rb"[^-]echo ", output) and re.search(rb"[^-]icanon ", output),
          "the foreground's terminal mode was changed: %r" % output)


def another_reader_takes_the_keys():
    """A second reader of the terminal in the foreground (`cat /dev/tty &`)
    takes some of the keys the prompt's poll() saw. The prompt still ends at
    its timeout: a blocking read of a key taken first would wait, every
    signal held, for the next key (it did, in 7 of 10 runs like these: a
    race, so six runs)."""
    for _ in range(6):
        result_file = unused_path()
        child = PtyChild(["bash", "-c", 'cat /dev/tty >/dev/null & exec "$0" "$1" 1500', PROBE, result_file],
                         dict(os.environ, PROBE_EXPECTED=SECRET))
        readers = []
        try:
            child.expect("Passphrase: ")
            readers = children(child.pid)
            check(len(readers) == 1, "not one other reader: %r" % readers)
            for _ in range(40):
                child.send("a")
                time.sleep(0.005)
            code = child.wait(timeout=6)
            with open(result_file) as f:
                line = f.read().strip()
            check(line.startswith("result=timed out "), "expected the prompt to time out, probe said: %s" % line)
            check(code == 1, "probe exit status %d" % code)
        finally:
            for reader in readers:
                os.kill(reader, signal.SIGKILL)
            child.kill()
            remove_if_there(result_file)
    print("another reader of the terminal: the prompt still timed out, 6 of 6")


def refused_without_locked_memory():
    """Without CAP_IPC_LOCK and with RLIMIT_MEMLOCK 0 the buffer cannot be
    locked: the prompt is not even shown, and nothing is read."""
    _, code, _ = refused_before_the_prompt(
        ["prlimit", "--memlock=0:0", "setpriv", "--bounding-set=-ipc_lock", PROBE, "RESULT", "10000"],
        "cannot lock memory", "without locked memory")
    check(code == 1, "probe exit status %d" % code)


def test():
    line = run(SECRET + "\r", "ok")
    check("matches=yes" in line and "length=11" in line, line)
    check("matches=yes" in run("s3cX\x7fret pass\r", "ok"), "backspace did not edit")
    check("matches=yes" in run("garbage\x15" + SECRET + "\r", "ok"), "Ctrl+U did not clear")
    check("matches=yes" in run("s3cret pa\u00e9\x7fss\r", "ok"), "backspace took a byte of a UTF-8 character")
    check("matches=yes" in run("s3c\x00ret pass\r", "ok"), "a NUL (Ctrl+@) was taken into the passphrase")
    run("\r", "no passphrase")
    run("\x00\r", "no passphrase")
    run("s3c\x03", "interrupted")
    run("s3c\x1c", "interrupted")
    run("s3c\x1a", "interrupted")
    run("\x04", "end of input")
    run("s3c", "interrupted", after=sigterm)
    run("s3c", "interrupted", after=many_signals_at_once)
    # Any signal that would end the process: once, SIGPWR (and the others
    # here) killed the prompt with echo left off.
    for sig in (signal.SIGPWR, signal.SIGXCPU, signal.SIGVTALRM, signal.SIGPROF, signal.SIGIO, signal.SIGRTMIN + 3):
        run("s3c", "interrupted", after=send_after_a_moment(sig))
    run("s3c", "timed out", timeout_ms=800)
    run("x" * 1100 + "\r", "passphrase too long")
    run("s3c", "terminal hung up", after=hang_up)
    line = run("s3c", "ok", after=stopped_and_resumed)
    check("matches=yes" in line, "the passphrase typed again after a stop: " + line)
    line = run("", "ok", timeout_ms=1500, after=stopped_longer_than_the_timeout)
    check("matches=yes" in line, "the passphrase typed after a stop longer than the timeout: " + line)
    typed_on_a_terminal_that_changes_bytes()
    a_late_sighup_after_a_hangup()
    a_hangup_seen_by_a_prompt_that_does_not_lead_the_session()
    ended_while_stopped_leaves_the_shell_its_terminal()
    line = run("s3c", "ok", after=continued_without_a_stop)
    check("matches=yes" in line, "the passphrase typed around a SIGCONT: " + line)
    not_in_the_foreground()
    resumed_in_the_background()
    another_reader_takes_the_keys()
    if os.environ.get("TAZPOD_SANITIZED") == "1":
        # ASan's mlock() is a no-op that returns 0: nothing to refuse there.
        print("skipped under the sanitizers: no prompt without locked memory")
    else:
        refused_without_locked_memory()


main(test)
