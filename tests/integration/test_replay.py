"""`repro replay` on a real engine: runs really at the same time, an image built once for
them, a JUnit report that validates, shards that partition, an interrupted replay that
leaves nothing, and --repeat finding a flaky case."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from conftest import REPO, Project, engine_names

SLEEPY = """\
    environment: {env}
    title: case {n}
    tags: [{tag}]
    steps:
      - {{name: work, run: "cat /etc/app/app.conf; sleep {sleep}"}}
    oracle:
      any: [{{step: work, stdout: "greeting = hello"}}]
    """


def _schema():
    spec = importlib.util.spec_from_file_location("xsd_check", REPO / "tests" / "schemas" /
                                                  "xsd_check.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.Schema(REPO / "tests" / "schemas" / "junit-10.xsd")


def _records(project: Project) -> list[dict]:
    return [json.loads(p.read_text()) for p in
            sorted((project.root / ".repro" / "runs").glob("*/record.json"))]


def _at(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_replay_runs_jobs_at_once_builds_the_image_once_and_reports(project: Project) -> None:
    # A build context of its own (a fresh image): every run needs it at the same moment.
    project.env("built", """\
        image: {build: {context: img}}
        files:
          - {path: /etc/app/app.conf, content: "greeting = hello\\n"}
        """, files={"img/Dockerfile": f"FROM repro-base/busybox\nLABEL t={project.tag}\n"})
    ids = [project.scenario(f"ok{n}", SLEEPY.format(env="built", n=n, tag="even" if n % 2
                                                      else "odd", sleep=2)) for n in range(5)]
    bad = project.scenario("bad", SLEEPY.format(env="built", n=9, tag="odd", sleep=0)
                           .replace("greeting = hello\"", "never printed\""))
    try:
        done = project.repro("replay", "--jobs", "3", "--junit", "out/junit.xml", "--json")
        assert done.returncode == 1, done.stderr  # one scenario is not as expected
        results = json.loads(done.stdout)
        assert sorted(r["scenario"] for r in results) == sorted([*ids, bad])
        assert {r["scenario"]: r["result"] for r in results}[bad] == "FAILED"
        records = _records(project)
        assert len(records) == 6 and all(r["status"] == "complete" for r in records)
        assert sum(r["image"]["built"] for r in records) == 1  # built once, for all six
        # Really concurrent: the most runs alive at one instant, from their own records.
        spans = [(_at(r["started_at"]), _at(r["ended_at"])) for r in records]
        most = max(sum(a <= t < b for a, b in spans) for t, _ in spans)
        assert most == 3, spans
        root = ET.parse(project.root / "out" / "junit.xml").getroot()
        assert _schema().check(root) == []
        cases = {c.get("name"): c for c in root.iter("testcase")}
        failure = cases[bad].find("failure")
        assert failure is not None and "NOT REPRODUCED" in failure.get("message", "")
        assert "never printed" in (failure.text or "")
        for sid in ids:
            assert cases[sid].find("failure") is None
            record = (cases[sid].findtext("system-out") or "").splitlines()[-1]
            assert (project.root / record.removeprefix("record: ")).is_file()
        progress = [line for line in done.stderr.splitlines() if line.startswith("[")]
        assert len(progress) == 6  # a line per scenario as it ends
        tagged = project.repro("replay", "--tag", "even", "-k", "not bad", "--json")
        assert sorted(r["scenario"] for r in json.loads(tagged.stdout)) == [ids[1], ids[3]]
        assert tagged.returncode == 0, tagged.stderr
    finally:
        subprocess.run(["docker", "image", "rm", "-f",
                        *{r["image"]["ref"] for r in _records(project)}], capture_output=True)


def test_shards_partition_the_selection_the_same_way_every_time(project: Project) -> None:
    ids = {project.scenario(f"s{n}", SLEEPY.format(env="bb", n=n, tag="t", sleep=0)
                            .replace("cat /etc/app/app.conf", "echo greeting = hello"))
           for n in range(7)}
    runs = project.root / ".repro" / "runs"

    def shard(k: int, records: Path | None) -> set[str]:
        """Part k of 3 as a CI job sees it: starting from the same records as the others."""
        shutil.rmtree(runs, ignore_errors=True)
        if records is not None:
            shutil.copytree(records, runs)
        done = project.repro("replay", "--shard", f"{k}/3", "--json", "--jobs", "2")
        assert done.returncode == 0, done.stderr
        return {r["scenario"] for r in json.loads(done.stdout)}

    for records in (None, project.root / "recorded"):  # by id, then by recorded durations
        parts = [shard(k, records) for k in (1, 2, 3)]
        assert set().union(*parts) == ids and sum(len(p) for p in parts) == len(ids)
        assert all(parts)  # seven over three: none idle
        assert shard(2, records) == parts[1]  # the same inputs, the same part
        if records is None:
            assert {len(p) for p in parts} == {2, 3}  # by id: balanced by count
            shutil.rmtree(runs)
            assert project.repro("replay", "--jobs", "2").returncode == 0  # every duration
            shutil.copytree(runs, project.root / "recorded")


def _wait_for_sandboxes(project: Project, proc: subprocess.Popen, count: int) -> None:
    deadline = time.monotonic() + 60
    while len([n for n in engine_names("container", "io.repro.run") if project.tag in n]
              ) < count:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the sandboxes never appeared"
        time.sleep(0.1)
    time.sleep(0.5)  # let the steps start


def test_an_interrupted_replay_removes_every_sandbox_and_says_what_did_not_run(
        project: Project) -> None:
    ids = sorted(project.scenario(f"long{n}", SLEEPY.format(env="bb", n=n, tag="t",
                                                             sleep=120)) for n in range(5))
    for sig in (signal.SIGTERM, signal.SIGINT):
        proc = subprocess.Popen([sys.executable, "-m", "repro", "replay", "--jobs", "3"],
                                cwd=project.root, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "NO_COLOR": "1"})
        _wait_for_sandboxes(project, proc, 3)
        began = time.monotonic()
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, err
        assert time.monotonic() - began < 15  # stopped, not waited for
        last = err.splitlines()[-1]
        assert last.startswith(f"repro: error: interrupted by {signal.Signals(sig).name}; "
                               "5 scenarios: 0 as expected, 0 not, 3 interrupted (")
        assert last.endswith(f"2 did not run ({ids[3]}, {ids[4]})")
        assert project.leftovers() == []
        assert [line.split()[0] for line in out.splitlines()[1:6]] == ids
    records = _records(project)
    assert len(records) == 6 and {r["status"] for r in records} == {"interrupted"}


def test_repeat_finds_the_flaky_scenario_and_the_rule_that_would_fix_it(
        project: Project) -> None:
    # Heads or tails from the kernel's random source: 16 runs all alike has odds 2^-15.
    coin = project.scenario("coin", """\
        environment: bb
        steps:
          - name: toss
            run: >-
              n=$(od -An -N1 -tu1 /dev/urandom); echo toss $n;
              [ $((n % 2)) = 0 ] && echo heads || echo tails
        oracle:
          any: [{step: toss, stdout: heads}]
        """)
    steady = project.scenario("steady", SLEEPY.format(env="bb", n=1, tag="t", sleep=0))
    done = project.repro("replay", "--repeat", "16", "--jobs", "4")
    assert done.returncode == 1, done.stderr
    flaky = done.stdout.split("\nflaky:\n", 1)[1].splitlines()
    assert flaky[0].startswith(f"  {coin}: ") and "varied: steps.toss.stdout" in flaky[0]
    assert any("normalize: {'replace': '(?<=toss\\\\ )\\\\d+'" in line for line in flaky), flaky
    assert steady not in "\n".join(flaky)
    rows = {line.split()[0]: line.split()[1] for line in done.stdout.splitlines()[1:3]}
    assert rows == {coin: "FLAKY", steady: "ok"}
    assert len(_records(project)) == 32
