"""Malformed inputs: each gives exit 2 and one line naming the file, the line and the fix.

A corpus, not a list of special cases: every entry is a file a user (or an attacker) could
write, run through `repro validate` as a user would, and held to the same contract.
"""

from __future__ import annotations

import pytest

ENV = "image: repro-base/busybox\n"
ORACLE = "oracle: {any: [{step: step-1, exit_code: 0}]}\n"


def _bomb(levels: int = 8) -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, levels):
        refs = ",".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


# (what, scenario bytes, expected line, a phrase of the fix)
CORPUS = [
    ("alias bomb", _bomb().encode(), 6, "alias bomb"),
    ("not UTF-8", b"environment: e\nsteps:\n  - run: echo caf\xe9\n" + ORACLE.encode(), 3,
     "save the file as UTF-8"),
    ("empty file", b"", None, "the file is empty"),
    ("comments only", b"# to do\n\n# later\n", None, "the file is empty"),
    ("jinja include", b"environment: e\nsteps:\n  - run: \"{% include '/etc/passwd' %}\"\n"
     + ORACLE.encode(), 3, "is not supported"),
    ("jinja import", b"environment: e\nsteps:\n  - run: |\n      echo\n"
     b"      {% import 'x' as y %}\n" + ORACLE.encode(), 5, "is not supported"),
    ("nested loops", b"environment: e\nsteps:\n  - run: \"{% for a in range(99999) %}"
     b"{% for b in range(99999) %}x{% endfor %}{% endfor %}\"\n" + ORACLE.encode(), 3,
     "loops go round more than"),
    ("endless timeout", b"environment: e\nsteps:\n  - run: echo\n    timeout: 9999999h\n"
     + ORACLE.encode(), 4, "at most 366d"),
    ("endless step_timeout", b"environment: e\nstep_timeout: 400d\nsteps:\n  - run: echo\n"
     + ORACLE.encode(), 2, "at most 366d"),
]


@pytest.mark.parametrize("what,content,line,fix", CORPUS, ids=[c[0] for c in CORPUS])
def test_a_malformed_scenario_is_one_located_line(project, cli, what, content, line, fix):
    project.environment("e", ENV)
    project.write("scenarios/bad/scenario.yaml", content)
    result = cli("validate", "scenarios/bad")
    assert result.exit_code == 2
    problems = [x for x in result.stdout.splitlines() + result.stderr.splitlines()
                if x.startswith("scenarios/")]
    assert len(problems) == 1, result.stdout + result.stderr
    where = "scenarios/bad/scenario.yaml" + (f":{line}:" if line else ":")
    assert problems[0].startswith(where), problems[0]
    assert fix in problems[0]
    assert "Traceback" not in result.stdout + result.stderr


@pytest.mark.parametrize("ref", ["UPPER/Case::bad", "a b", "x:", "repo//double", "-lead"])
def test_an_invalid_image_reference_is_refused_before_any_engine(project, cli, ref):
    project.environment("e", f"image: '{ref}'\n")
    result = cli("validate", "environments/e.yaml")
    assert result.exit_code == 2
    assert result.stderr.startswith("environments/e.yaml:1: image.ref:")
    assert "is not an image reference" in result.stderr


def test_a_reference_made_invalid_by_a_secret_is_refused_without_showing_it(project, cli):
    project.environment("e", "image: 'registry.example.com/{{ key }}/app:1'\n"
                             "parameters:\n  key: {default: Tenant-SECRET-7, secret: true}\n")
    project.scenario("S", "environment: e\nsteps: [{run: echo}]\n" + ORACLE)
    result = cli("plan", "S")
    assert result.exit_code == 2
    assert "environments/e.yaml:1: image.ref: does not render to an image reference" \
        in result.stderr
    assert "SECRET" not in result.stdout + result.stderr


# Every key that names a file, pointed at a host file by an absolute path, by `..`, and
# through a symlink: one rule, one message.
_PATH_KEYS = {
    "data": ("scenario", "data: [{{from: '{p}', to: /in/x}}]\n", "data[0].from"),
    "stdin_file": ("scenario", None, "steps[0].stdin_file"),
    "parameters_from": ("scenario", "parameters_from: ['{p}']\n", "parameters_from[0]"),
    "template": ("environment", "files: [{{path: /etc/x, template: '{p}'}}]\n",
                 "files[0].template"),
    "build context": ("environment", None, "image.build.context"),
}


@pytest.mark.parametrize("how", ["absolute", "dotdot", "symlink"])
@pytest.mark.parametrize("key", list(_PATH_KEYS))
def test_every_named_path_must_stay_inside_the_project(project, cli, tmp_path_factory, key,
                                                       how):
    host = tmp_path_factory.mktemp("host")
    (host / "secret.ini").write_text("[x]\nkey = host-only\n")
    target = host / "secret.ini" if key != "build context" else host
    if how == "absolute":
        rel = str(target)
    elif how == "dotdot":
        depth = len(project.root.parts) - 1
        rel = "/".join([".."] * (depth + 1)) + str(target)
    else:
        link = project.root / "scenarios" / "S" / "link"
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(target)
        rel = "link" if key != "template" and key != "build context" else "../scenarios/S/link"
    kind, text, shown = _PATH_KEYS[key]
    env = "image: repro-base/busybox\n"
    scenario = "environment: e\nsteps: [{run: echo}]\n" + ORACLE
    if key == "stdin_file":
        scenario = f"environment: e\nsteps: [{{run: cat, stdin_file: '{rel}'}}]\n" + ORACLE
    elif key == "build context":
        env = f"image: {{build: {{context: '{rel}'}}}}\n"
    elif kind == "scenario":
        scenario += text.format(p=rel)
    else:
        env += text.format(p=rel)
    project.environment("e", env)
    project.scenario("S", scenario)
    result = cli("plan", "S")
    assert result.exit_code == 2
    (line,) = [x for x in result.stderr.splitlines() if "outside the project" in x]
    assert f": {shown}: " in line and "REPRO_ALLOW_PATHS" in line
    assert "host-only" not in result.stdout + result.stderr


def test_an_allowed_folder_outside_the_project_is_accepted(project, cli, tmp_path_factory,
                                                           monkeypatch):
    bundles = tmp_path_factory.mktemp("bundles")
    (bundles / "export.csv").write_text("a,b\n1,2\n")
    project.environment("e", "image: repro-base/busybox\n")
    project.scenario("S", "environment: e\nsteps: [{run: echo}]\n" + ORACLE +
                     f"data: [{{from: '{bundles / 'export.csv'}', to: /in/export.csv}}]\n")
    assert cli("plan", "S").exit_code == 2
    monkeypatch.setenv("REPRO_ALLOW_PATHS", str(bundles))
    result = cli("plan", "S")
    assert result.exit_code == 0, result.stderr
