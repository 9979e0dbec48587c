"""The build that makes a changed image (repro.sandbox.docker.changes), without an engine:
its Dockerfile and the reading of its output. The RUN line is run here by a real `sh`, so
the script's quoting survives the trip through JSON."""

from __future__ import annotations

import json
import subprocess

from repro.execute.conditions import COMPILED, LOCALE_SCRIPT
from repro.sandbox.api import ImageChange
from repro.sandbox.docker.changes import MARK, dockerfile, read_build

LOCALE = ImageChange("the locale de_DE.UTF-8", "locale de_DE.UTF-8", LOCALE_SCRIPT,
                     ("de_DE.UTF-8", "de_DE.utf8", "de_DE", "UTF-8"), changed=COMPILED)


def _run_line(text: str) -> list[str]:
    (run,) = [line for line in text.splitlines() if line.startswith("RUN ")]
    return json.loads(run[4:])


def test_the_script_runs_as_root_and_the_bases_user_comes_back():
    text = dockerfile("sha256:abc", "app:staff", LOCALE)
    lines = text.splitlines()
    assert lines[:2] == ["FROM sha256:abc", "USER 0"] and lines[-1] == "USER app:staff"
    assert dockerfile("sha256:abc", "", LOCALE).splitlines()[-1].startswith("RUN ")


def test_the_run_line_gives_the_script_its_arguments_and_prints_its_exit(tmp_path):
    # The locale script itself, as the build's shell would run it, on this machine.
    argv = _run_line(dockerfile("sha256:abc", "", LOCALE))
    assert argv[:2] == ["sh", "-c"] and argv[3:] == ["change", *LOCALE.args]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    (mark,) = [line for line in done.stdout.splitlines() if line.startswith(MARK)]
    code = int(mark.removeprefix(MARK))
    assert code in (0, 3, 4, 5, 6, COMPILED)  # whatever this host can do, a verdict
    assert (done.returncode == 0) == (code == COMPILED)  # the RUN fails unless changed
    # A script with quotes, backslashes and its arguments, echoed back exactly.
    tricky = ImageChange("x", "x", r"""printf '%s|' "$1" "$2" 'a\b' "c\"d"; exit 7""",
                         ("it's", "$HOME"), changed=7)
    done = subprocess.run(_run_line(dockerfile("b", "", tricky)), capture_output=True,
                          text=True, timeout=30)
    assert done.stdout == f"it's|$HOME|a\\b|c\"d|{MARK}7\n" and done.returncode == 0


def test_the_build_stream_is_read_for_the_exit_its_last_lines_and_the_error():
    stream = [{"stream": "Step 3/3 : RUN [...]\n"}, {"stream": " ---> Running in 1a2b\n"},
              {"stream": "localedef: cannot open\nsecond line\n"},
              {"stream": f"{MARK}6\n"},
              {"error": "The command ... returned a non-zero code: 1"}]
    code, output, error = read_build(stream)
    assert (code, output) == (6, "localedef: cannot open\nsecond line")
    assert error.endswith("non-zero code: 1")
    assert read_build([{"error": "exec: \"sh\": executable file not found in $PATH"}])[0] \
        is None  # never ran: the caller tells a missing shell from an engine failure
