"""Progress as people see it, on the real engine: a live view under a pseudo-terminal
(the build's steps, a service awaited, a long step's elapsed time and last line), colours
as asked, and plain lines off a terminal without loading the live view's library."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

from conftest import Project

SGR = re.compile(r"\x1b\[[0-9;]*m")  # colours and styles
CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\r")  # cursor moves and line clears


def in_terminal(project: Project, *args: str, env: dict[str, str] | None = None,
                timeout: float = 300) -> tuple[int, str]:
    """`repro ARGS` with stdin, stdout and stderr on a pseudo-terminal (120 columns):
    its exit code and everything it wrote there."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    environ = {key: value for key, value in os.environ.items() if key != "NO_COLOR"}
    process = subprocess.Popen([sys.executable, "-m", "repro", *args], cwd=project.root,
                               stdin=follower, stdout=follower, stderr=follower,
                               env={**environ, "TERM": "xterm-256color", **(env or {})})
    os.close(follower)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([leader], [], [], 0.5)[0]:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: every writer has closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif process.poll() is not None:
                break
        code = process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    return code, b"".join(chunks).decode("utf-8", "replace")


def drawn_lines(output: str) -> list[str]:
    """What the terminal showed, one entry per drawn line (escapes out)."""
    return [line.strip() for line in CONTROL.split(SGR.sub("", output)) if line.strip()]


# A readiness check that passes the fifth time it runs.
COUNTED = "n=$(cat /tmp/n 2>/dev/null || echo 0); echo $((n+1)) > /tmp/n; [ $n -ge 4 ]"


def slow_project(project: Project, name: str) -> str:
    """An environment built from a Dockerfile (unique to the test: it is built), a service
    ready at its fifth check (from the start of the wait, however slow the engine is to
    start it), and a step printing a line every 0.3 s for 2.4 s."""
    project.env(name, f"""\
        image:
          build:
            context: {name}
        services:
          db:
            image: repro-base/busybox
            command: ["sleep", "3600"]
            ready: {{command: "{COUNTED}", interval: 0.3s, timeout: 60s}}
        """, files={f"{name}/Dockerfile": "FROM repro-base/busybox\n"
                                          f"RUN echo {project.tag} && sleep 1.5\n"
                                          "RUN echo built > /built\n"})
    return project.scenario(name, f"""\
        environment: {name}
        steps:
          - name: ticking
            run: "for i in 1 2 3 4 5 6 7 8; do echo tick $i; sleep 0.3; done"
        oracle: {{any: [{{step: ticking, stdout: "tick 8"}}]}}
        """)


def test_a_terminal_gets_a_live_view_of_the_build_the_wait_and_a_long_step(
        project: Project) -> None:
    sid = slow_project(project, "live")
    code, output = in_terminal(project, "run", f"scenarios/{sid}", "--color", "always")
    assert code == 0, output
    lines = drawn_lines(output)
    # The build's current Dockerfile step, with the time it has taken so far.
    assert any(re.fullmatch(r"… building the image of live +\d+\.\ds +Step 2/4 : RUN echo "
                            rf"{project.tag} && sleep 1\.5.*", line) for line in lines), lines
    assert any(re.fullmatch(r"… waiting for service db +\d+\.\ds of 60s +command n=.*",
                            line) for line in lines), lines
    # The long step: its elapsed time grows, with the last line it printed beside it.
    seen = [re.fullmatch(r"… step ticking +(\d+\.\d)s +tick (\d)", line) for line in lines]
    ticks = [(float(m[1]), int(m[2])) for m in seen if m]
    assert len({tick for _, tick in ticks}) >= 3 and max(t for t, _ in ticks) >= 1.5, lines
    assert ticks == sorted(ticks), ticks  # later lines, later times
    # Finished facts stay as lines; the view is gone at the end (the summary follows).
    assert "repro: step ticking: ok (exit 0)" in "\n".join(lines)
    assert lines[-1].startswith("record: .repro/runs/")
    assert SGR.search(output)  # --color always
    assert project.leftovers() == []

    # No colour with --color never, nor with NO_COLOR: the view is still drawn.
    for args, env in ((["--color", "never"], {}), ([], {"NO_COLOR": "1"})):
        code, output = in_terminal(project, "run", f"scenarios/{sid}", *args, env=env)
        assert code == 0, output
        assert not SGR.search(output), (args, env, output)
        assert any(re.fullmatch(r"… step ticking +\d+\.\ds +tick \d", line)
                   for line in drawn_lines(output)), output


def test_off_a_terminal_the_same_facts_are_plain_lines(project: Project) -> None:
    sid = slow_project(project, "plain")
    done = project.repro("run", f"scenarios/{sid}",
                         env={"PYTHONPROFILEIMPORTTIME": "1"})
    assert done.returncode == 0, done.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "repro.report.progress" in imported
    assert not {name for name in imported if name.split(".")[0] == "rich"}
    said = [line for line in done.stderr.splitlines() if line.startswith("repro: ")]
    assert "\x1b" not in done.stderr
    assert said[0] == f"repro: running {sid} in a fresh sandbox ..."
    assert [line for line in said if line.startswith("repro: build plain: ")] == [
        "repro: build plain: Step 1/4 : FROM repro-base/busybox",
        f"repro: build plain: Step 2/4 : RUN echo {project.tag} && sleep 1.5",
        "repro: build plain: Step 3/4 : RUN echo built > /built",
        "repro: build plain: Step 4/4 : LABEL io.repro.cache-key=" +
        said[5].rsplit("=", 1)[-1]]
    key = said[5].rsplit("=", 1)[-1]  # the image is tagged by its cache key
    assert re.fullmatch(r"[0-9a-f]{12,64}", key), said[5]
    assert re.fullmatch(r"repro: image repro-env/plain:(\w+) built in \d+\.\d\ds", said[6])
    assert key.startswith(said[6].split(":")[2].split()[0]), (said[5], said[6])
    assert said[7:] == [f"repro: waiting for service db: command {COUNTED} (up to 60s)",
                        said[8], said[9]]
    assert re.fullmatch(r"repro: service db ready after \d\.\d\ds", said[8])
    assert re.fullmatch(r"repro: step ticking: ok \(exit 0\) 2\.\d\ds", said[9])

    verbose = project.repro("run", f"scenarios/{sid}", "--verbose")
    polls = re.findall(r"^repro: service db: not ready after \d+\.\ds \(check (\d+)\)$",
                       verbose.stderr, re.MULTILINE)
    assert polls == ["1", "2", "3", "4"], verbose.stderr
    assert "repro: step ticking: started\n" in verbose.stderr
    quiet = project.repro("run", f"scenarios/{sid}", "-q")
    assert (quiet.returncode, quiet.stderr) == (0, "")
    assert "REPRODUCED" in quiet.stdout and "\x1b" not in quiet.stdout
    recorded = project.repro("baseline", f"scenarios/{sid}", "--quiet")
    assert (recorded.returncode, recorded.stderr) == (0, "")
    assert recorded.stdout.startswith(f"baseline recorded: scenarios/{sid}/baseline.yaml")
    # A replay too: only its table, coloured when asked even off a terminal.
    replayed = project.repro("replay", f"scenarios/{sid}", "--quiet", "--color", "always")
    assert (replayed.returncode, replayed.stderr) == (0, "")
    assert SGR.sub("", replayed.stdout).splitlines()[0].split() == [
        "scenario", "result", "verdict", "expected", "baseline", "duration", "run"]
    assert "\x1b[1mscenario" in replayed.stdout
    assert project.leftovers() == []
