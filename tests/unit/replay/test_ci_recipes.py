"""The CI recipes of the README parse as YAML and call `repro replay` consistently: one
shard per matrix job, all of them covered, the JUnit file each writes is the one uploaded,
and the command line is one the real CLI accepts."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

README = Path(__file__).resolve().parents[3] / "README.md"
MATRIX = "${{ matrix.shard }}"


def project_with_a_scenario(project) -> None:
    project.environment("e", "image: busybox\n")
    project.scenario("A-1", "environment: e\nsteps: [{name: s, run: 'true'}]\n"
                     "oracle: {any: [{step: s, failed: true}]}\n")


def recipes() -> list[dict]:
    text = README.read_text()
    section = text[text.index("## CI: every case, every change"):]
    section = section[:section.index("\n## ", 1)]
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", section,
                                                          re.S)]


def replay_line(lines: list[str]) -> list[str]:
    [line] = [line for line in lines if " replay " in f" {line} "]
    # GitHub expands ${{ ... }} before the shell sees the line: a word of its own.
    argv = shlex.split(line.replace(MATRIX, "@SHARD@"))
    assert argv[0].endswith("repro") and argv[1] == "replay"
    return argv[2:]


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_the_readme_has_a_github_and_a_gitlab_recipe() -> None:
    github, gitlab = recipes()
    assert "jobs" in github and "parallel" in gitlab["regressions"]


def test_github_matrix_covers_every_shard_and_uploads_each_report(cli, project) -> None:
    job = recipes()[0]["jobs"]["regressions"]
    shards = job["strategy"]["matrix"]["shard"]
    steps = job["steps"]
    argv = replay_line([s.get("run", "") for s in steps])
    shard, report = option(argv, "--shard"), option(argv, "--junit")
    part, total = shard.split("/")
    assert part == "@SHARD@"
    assert shards == list(range(1, int(total) + 1))  # each part once, none left out
    assert "@SHARD@" in report  # each job its own file
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["with"]["path"] == report.replace("@SHARD@", MATRIX)
    assert upload.get("if") == "always()"
    project_with_a_scenario(project)
    for value in shards:  # what each job runs, as the real CLI parses it
        concrete = [a.replace("@SHARD@", str(value)) for a in argv]
        ran = cli("replay", *concrete, "-k", "nothing-selected")
        assert ran.exit_code == 0, ran.stderr
        assert Path(concrete[concrete.index("--junit") + 1]).is_file()


def test_gitlab_parallel_uses_its_node_index_and_total(cli, project) -> None:
    project_with_a_scenario(project)
    job = recipes()[1]["regressions"]
    argv = replay_line(job["script"])
    assert option(argv, "--shard") == "${CI_NODE_INDEX}/${CI_NODE_TOTAL}"
    report = option(argv, "--junit")
    pattern = job["artifacts"]["reports"]["junit"]
    assert job["artifacts"]["when"] == "always"
    for index in range(1, job["parallel"] + 1):
        concrete = [a.replace("${CI_NODE_INDEX}", str(index)).replace(
            "${CI_NODE_TOTAL}", str(job["parallel"])) for a in argv]
        written = concrete[concrete.index("--junit") + 1]
        assert Path(written).match(pattern), (written, pattern)
        ran = cli("replay", *concrete, "-k", "nothing-selected")
        assert ran.exit_code == 0, ran.stderr
    assert "${CI_NODE_INDEX}" in report
