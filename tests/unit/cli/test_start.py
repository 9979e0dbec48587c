"""`repro init` and `repro doctor` (on the fake backend), `repro runs` telling runs apart,
and shell completion through the real app."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from repro.sandbox.api import Check

from ..fake_backend import FakeBackend


@pytest.fixture
def backend(monkeypatch: pytest.MonkeyPatch) -> FakeBackend:
    fake = FakeBackend()
    monkeypatch.setattr("repro.sandbox.backends.default", lambda: fake)
    return fake


def test_init_makes_a_project_that_validates_and_plans(project, cli):
    made = cli("init", "new")
    assert made.exit_code == 0, made.stderr
    assert made.stdout.splitlines() == [
        "wrote new/environments/example.yaml", "wrote new/scenarios/EXAMPLE-1/scenario.yaml",
        "wrote new/scenarios/EXAMPLE-1/customer/upload.txt", "wrote new/.gitignore",
        "next: cd new && repro validate && repro run scenarios/EXAMPLE-1"]
    os.chdir(project.root / "new")
    checked = cli("validate")
    assert (checked.exit_code, checked.stderr) == (0, "2 of 2 files valid\n")
    plan = json.loads(cli("plan", "scenarios/EXAMPLE-1", "--json").stdout)
    assert plan["image"]["ref"] == "repro-base/busybox"
    assert ".repro/" in (project.root / "new/.gitignore").read_text().split()


def test_init_refuses_to_overwrite_unless_forced(project, cli):
    assert cli("init").exit_code == 0
    scenario = project.root / "scenarios/EXAMPLE-1/scenario.yaml"
    scenario.write_text("# the user's own work\n")
    again = cli("init")
    assert again.exit_code == 2 and again.stdout == ""
    assert again.stderr == ("repro: error: environments/example.yaml exists (and 2 more): "
                            "`repro init` does not overwrite files; pick an empty folder, or "
                            "pass --force\n")
    assert scenario.read_text() == "# the user's own work\n"  # nothing was written
    assert cli("init", "--force").exit_code == 0
    assert "expect: reproduces" in scenario.read_text()


def test_init_adds_repro_to_an_existing_gitignore_once(project, cli):
    (project.root / ".gitignore").write_text("node_modules/")
    assert cli("init").exit_code == 0
    assert cli("init", "--force").exit_code == 0
    text = (project.root / ".gitignore").read_text()
    assert text.startswith("node_modules/\n") and text.count(".repro/") == 1


def test_doctor_holds_when_every_check_holds_and_says_the_fix_when_one_fails(
        project, cli, backend):
    assert cli("init").exit_code == 0
    healthy = cli("doctor")
    assert healthy.exit_code == 0, healthy.stdout
    lines = healthy.stdout.splitlines()
    assert lines[0] == "ok    engine         fake engine 1.0"
    assert "ok    project        2 files valid in ." in lines
    assert lines[-1] == "5 of 5 checks hold"
    backend.checks = [Check("engine", False, "no engine answers at tcp://x:9", "start it"),
                      Check("storage", None, "not checked: the engine does not answer")]
    sick = cli("doctor")
    assert sick.exit_code == 1
    assert sick.stdout.splitlines()[:3] == [
        "FAIL  engine         no engine answers at tcp://x:9",
        "                     fix: start it",
        "skip  storage        not checked: the engine does not answer"]
    assert sick.stdout.splitlines()[-1] == "3 of 5 checks hold, 1 failed, 1 not checked"
    data = json.loads(cli("doctor", "--json").stdout)
    assert data["ok"] is False and data["checks"][0] == {
        "name": "engine", "ok": False, "detail": "no engine answers at tcp://x:9",
        "fix": "start it"}


def test_doctor_fails_on_a_project_that_does_not_validate(project, cli, backend):
    assert cli("init").exit_code == 0
    env = project.root / "environments/example.yaml"
    env.write_text(env.read_text().replace("egress: false", "egres: false"))
    done = cli("doctor")
    assert done.exit_code == 1
    (line,) = [x for x in done.stdout.splitlines() if " project " in x]
    assert line.startswith("FAIL  project        2 of 2 files have problems, first: "
                           "environments/example.yaml:"), line
    assert "egres" in line
    assert "fix: `repro validate` lists them all" in done.stdout


def test_doctor_counts_old_run_records_and_what_pruning_frees(project, cli, backend):
    assert cli("init").exit_code == 0
    for run_id, started in (("old", "2020-01-01T00:00:00+00:00"),
                            ("new", "2099-01-01T00:00:00+00:00")):
        folder = project.root / ".repro/runs" / run_id
        folder.mkdir(parents=True)
        (folder / "record.json").write_text(json.dumps(
            {"run_id": run_id, "scenario": {"id": "S"}, "status": "complete", "steps": [],
             "started_at": started}))
        (folder / "out.log").write_bytes(b"x" * 2048)
    (line,) = [x for x in cli("doctor").stdout.splitlines() if "run records" in x]
    assert line.startswith("ok    run records    2 run record(s), 4.")
    assert "; 1 older than 30 days, 2.1 KiB: `repro runs --prune 30d` frees them" in line


def _record(project, run_id: str, started: str, purpose: str | None, status: str,
            reproduced: bool | None) -> None:
    folder = project.root / ".repro/runs" / run_id
    folder.mkdir(parents=True)
    data = {"run_id": run_id, "scenario": {"id": "S"}, "status": status, "steps": [],
            "reproduced": reproduced, "ok": reproduced, "started_at": started,
            "baseline": {"verdict": "none"}}
    if purpose is not None:
        data["purpose"] = purpose
    (folder / "record.json").write_text(json.dumps(data))


def test_runs_tells_baseline_recordings_and_shell_sessions_from_runs(project, cli):
    project.app()
    _record(project, "S-run", "2099-01-04T00:00:00+00:00", "run", "complete", False)
    _record(project, "S-base", "2099-01-03T00:00:00+00:00", "baseline", "complete", False)
    _record(project, "S-shell", "2099-01-02T00:00:00+00:00", "shell", "not replayed", None)
    _record(project, "S-older", "2099-01-01T00:00:00+00:00", None, "not replayed", None)
    rows = {line.split()[1]: " ".join(line.split()[2:]) for line in
            cli("runs").stdout.splitlines()}
    assert rows == {"S-run": "NOT REPRODUCED NOT ok baseline none complete",
                    "S-base": "NOT REPRODUCED baseline recording complete",
                    "S-shell": "- shell session, no steps not replayed",
                    "S-older": "- shell session, no steps not replayed"}


def test_shell_command_takes_a_command_line_or_a_program(project, cli, backend):
    from ..conftest import APP_SCENARIO

    project.app(APP_SCENARIO)
    assert cli("shell", "T-1", "--no-steps", "-c", "cat /etc/x.conf").exit_code == 0
    assert cli("shell", "T-1", "--no-steps", "-c", "bash").exit_code == 0
    assert [s.sessions for s in backend.sandboxes] == [
        [(None, ["sh", "-c", "cat /etc/x.conf"])], [(None, ["bash"])]]


def _repro(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "repro", *args], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=60)


def test_bash_completion_completes_commands_and_options(tmp_path):
    """The script `--show-completion` prints, sourced in a real bash, completes."""
    script = _repro("--show-completion", "bash",
                    env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert script.returncode == 0 and "complete -o default -F _repro_completion repro" in \
        script.stdout, script.stderr
    completion = tmp_path / "repro.bash"
    completion.write_text(script.stdout)
    shim = tmp_path / "bin" / "repro"  # `repro` as an installed user would have it
    shim.parent.mkdir()
    shim.write_text(f"#!/bin/sh\nexec {sys.executable} -m repro \"$@\"\n")
    shim.chmod(0o755)
    probe = (f". {completion}\n"
             "COMP_WORDS=(repro ru); COMP_CWORD=1; _repro_completion repro\n"
             "echo \"${COMPREPLY[@]}\"\n"
             "COMP_WORDS=(repro doctor --); COMP_CWORD=2; _repro_completion repro\n"
             "echo \"${COMPREPLY[@]}\"\n")
    done = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True,
                          env={**os.environ, "PATH": f"{shim.parent}:{os.environ['PATH']}"},
                          timeout=60)
    assert done.stdout.splitlines() == ["run runs", "--json --help"], done.stderr


@pytest.mark.parametrize("shell, expected", [
    ("zsh", '"runs":"List recent runs of this project'),
    ("fish", "runs\tList recent runs of this project"),
])
def test_zsh_and_fish_completion_answer_their_scripts_protocol(shell, expected):
    """What the zsh and fish scripts of --show-completion ask the program, answered."""
    env = {"_REPRO_COMPLETE": f"complete_{shell}", "_TYPER_COMPLETE_ARGS": "repro ru",
           "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    done = _repro(env=env)
    assert done.returncode == 0 and expected in done.stdout, done.stdout + done.stderr
    script = _repro("--show-completion", shell,
                    env={"_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"})
    assert f"_REPRO_COMPLETE=complete_{shell}" in script.stdout, script.stdout


def test_help_lists_init_doctor_and_completion():
    done = _repro("--help", env={})
    for word in ("init", "doctor", "--install-completion", "--show-completion"):
        assert word in done.stdout


def test_a_build_failing_for_want_of_the_bridge_says_so():
    from repro.sandbox.docker.images import bridge_hint

    refused = ("failed to create endpoint x on network bridge: could not find bridge docker0: "
               "route ip+net: no such network interface")
    assert "no default bridge network (docker0)" in bridge_hint(refused)
    assert "repro doctor" in bridge_hint(refused)
    assert bridge_hint("The command '/bin/sh -c false' returned a non-zero code: 1") == ""


def test_an_unreachable_engine_error_survives_masking():
    """Errors are copied when secrets are masked out of them: the engine's is too."""
    from repro.sandbox.docker.engine import Unreachable

    error = Unreachable.at("tcp://127.0.0.1:9", "connection refused")
    masked = error.redacted(lambda text: text.replace("127.0.0.1", "***"))
    assert str(masked).startswith("cannot reach the Docker engine at tcp://***:9 (connection")
    assert (masked.host, masked.reason) == ("tcp://127.0.0.1:9", "connection refused")
