"""The commands that talk to the backend (shell, gc, base), on the fake backend; and the
boundary: only repro/sandbox/docker knows Docker."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from repro.sandbox.api import Leftover

from ..conftest import APP_SCENARIO
from ..fake_backend import FakeBackend

REPRO = Path(__file__).resolve().parents[2] / "repro"


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    fake = FakeBackend()
    monkeypatch.setattr("repro.sandbox.backends.default", lambda: fake)
    return fake


def test_shell_opens_a_session_in_the_live_sandbox_and_exits_with_its_status(
        project, cli, backend):
    project.app(APP_SCENARIO)
    result = cli("shell", "T-1", "--no-steps", "--command", "bash")
    (sandbox,) = backend.sandboxes
    assert sandbox.sessions == [(None, ["bash"])]
    assert result.exit_code == 0
    assert f"repro: entering {sandbox.name}; leave the shell to remove the sandbox" in \
        result.stderr
    assert backend.removed == [sandbox.name]


def test_shell_explains_a_program_the_image_lacks(project, cli, backend):
    project.app(APP_SCENARIO)
    backend.session_exit = 127
    result = cli("shell", "T-1", "--no-steps", "--command", "bash")
    assert result.exit_code == 127
    assert ("repro: could not start 'bash' in the sandbox (exit 127): does the image have "
            "it? try --command sh") in result.stderr


def test_gc_lists_what_the_backend_removed_and_left(cli, backend):
    backend.leftovers = [Leftover("container", "repro-a", "a", None),
                         Leftover("network", "repro-b", "b", "kept with --keep")]
    result = cli("gc")
    assert result.exit_code == 0
    assert result.stdout == ("removed container repro-a (run a)\n"
                             "left network repro-b (run b): kept with --keep\n"
                             "1 removed, 1 left\n")
    assert cli("gc", "--run", "zzz").stdout == "nothing left of run zzz\n"


def test_gc_says_a_live_runs_resources_are_in_use_and_spared(cli, backend):
    backend.leftovers = [Leftover("container", "repro-a", "a", None),
                         Leftover("container", "repro-b", "b", "its run is still going "
                                  "(repro process 42)", in_use=True)]
    dry = cli("gc", "--dry-run")
    assert dry.stdout == ("would remove container repro-a (run a)\n"
                          "in use, spared container repro-b (run b): its run is still going "
                          "(repro process 42)\n")
    assert cli("gc").stdout.endswith("1 removed, 1 in use (spared), 0 left\n")


def test_base_prints_the_reference_the_backend_made(cli, backend):
    result = cli("base", "busybox")
    assert (result.exit_code, result.stdout) == (0, "fake-base/busybox\n")


def test_help_does_not_import_the_docker_sdk():
    code = ("import sys; from typer.testing import CliRunner; from repro.cli import app; "
            "CliRunner().invoke(app, ['--help']); print('docker' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False"


def test_help_does_not_import_rich():
    """The live view's library loads only when a terminal is attached."""
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "repro", "--help"],
                          capture_output=True, text=True, check=True)
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "typer" in imported  # the listing is there to read
    assert not {name for name in imported if name.split(".")[0] == "rich"}


def test_run_progress_lines_quiet_and_verbose(project, cli, backend):
    project.app(APP_SCENARIO)
    normal = cli("run", "T-1")
    assert normal.stderr.splitlines()[:1] == ["repro: running T-1 in a fresh sandbox ..."]
    assert "repro: step start: ok (exit 0) " in normal.stderr
    quiet = cli("run", "T-1", "--quiet")
    assert quiet.stderr == "" and quiet.stdout.splitlines()[0] == normal.stdout.splitlines()[0]
    verbose = cli("run", "T-1", "-v")
    assert "repro: step start: started\n" in verbose.stderr
    both = cli("run", "T-1", "-q", "-v")
    assert (both.exit_code, both.stderr) == (
        2, "repro: error: --quiet: cannot go with --verbose: give one\n")
    bad = cli("run", "T-1", "--color", "sometimes")
    assert bad.exit_code == 2 and bad.stderr.startswith("repro: error: invalid value for "
                                                        "'--color'")


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_docker_backend_imports_only_the_port_and_the_bottom_of_repro():
    allowed = ("repro.errors", "repro.signals", "repro.tarball", "repro.sandbox.api",
               "repro.sandbox.docker")
    for path in sorted((REPRO / "sandbox" / "docker").glob("*.py")):
        wrong = {name for name in _imports(path) if name.startswith("repro.") and
                 not name.startswith(allowed)}
        assert not wrong, f"{path.name} imports {sorted(wrong)}"


def test_nothing_outside_the_docker_backend_imports_docker():
    for path in sorted(REPRO.rglob("*.py")):
        if "sandbox/docker" in path.as_posix():
            continue
        names = _imports(path)
        assert not {n for n in names if n == "docker" or n.startswith("docker.")}, path
        assert not any(n.startswith("repro.sandbox.docker") for n in names) or \
            path.name == "backends.py", path
