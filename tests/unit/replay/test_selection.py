"""Choosing what a replay runs: -k expressions, tags, paths, changed files, shards."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from repro.errors import ConfigError
from repro.replay import keywords, shards
from repro.replay.select import Criteria, select

ENV = "image: busybox\n"


def scenario(title: str, tags: str = "[]") -> str:
    return (f"environment: e\ntitle: {title}\ntags: {tags}\n"
            "steps: [{name: s, run: 'true'}]\noracle: {any: [{step: s, failed: true}]}\n")


@pytest.fixture
def four(project):
    project.environment("e", ENV)
    project.scenario("ACME-1", scenario("invoice total wrong", "[billing, slow]"))
    project.scenario("ACME-1-fixed", scenario("invoice total right", "[billing]"))
    project.scenario("NORD-2", scenario("crash on import", "[import]"))
    project.scenario("TIX-3", scenario("double booking"))
    return project


def ids(criteria: Criteria, paths: list[Path] | None = None) -> list[str]:
    return [s.id for s in select(paths or [], criteria, Path.cwd())]


@pytest.mark.parametrize(("expr", "expected"), [
    ("ACME", ["ACME-1", "ACME-1-fixed"]),
    ("acme and not fixed", ["ACME-1"]),
    ("invoice or crash", ["ACME-1", "ACME-1-fixed", "NORD-2"]),
    ("not (acme or nord)", ["TIX-3"]),
    ("booking and (tix or nord)", ["TIX-3"]),
    ("nothing-like-this", []),
])
def test_k_matches_substrings_of_ids_and_titles(four, expr: str, expected: list[str]) -> None:
    assert ids(Criteria(keyword=expr)) == expected


@pytest.mark.parametrize("expr", ["", "a and", "(a", "a)", "and a", "a or or b", "not"])
def test_an_unreadable_k_is_one_line(expr: str) -> None:
    with pytest.raises(ConfigError) as caught:
        keywords.parse(expr)
    [line] = caught.value.lines()
    assert line.startswith("-k: cannot read")


def test_tags_select_any_of_them_and_an_unknown_one_is_refused(four) -> None:
    assert ids(Criteria(tags=("billing",))) == ["ACME-1", "ACME-1-fixed"]
    assert ids(Criteria(tags=("slow", "import"))) == ["ACME-1", "NORD-2"]
    with pytest.raises(ConfigError) as caught:
        ids(Criteria(tags=("biling",)))
    assert caught.value.lines() == ["--tag: no scenario is tagged 'biling' (did you mean "
                                    "'billing'?)"]


def test_paths_narrow_the_selection_and_an_empty_one_is_refused(four) -> None:
    assert ids(Criteria(), [Path("scenarios/NORD-2")]) == ["NORD-2"]
    assert ids(Criteria(), [Path("scenarios/TIX-3/scenario.yaml"), Path("scenarios/TIX-3")]
               ) == ["TIX-3"]
    (four.root / "empty").mkdir()
    with pytest.raises(ConfigError) as caught:
        ids(Criteria(), [Path("empty")])
    assert caught.value.lines() == ["empty: no scenario.yaml in it: give a scenario folder or a "
                                    "folder of scenarios"]


def test_a_broken_scenario_stops_the_replay_before_anything_runs(four) -> None:
    four.scenario("BAD-9", "environment: missing\nsteps: [{name: s, run: 'true'}]\n"
                  "oracle: {any: [{step: s, failed: true}]}\n")
    with pytest.raises(ConfigError) as caught:
        ids(Criteria())
    assert "scenarios/BAD-9/scenario.yaml:1: environment: environment 'missing' not found" in \
        caught.value.lines()[0]


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=root,
                   check=True, capture_output=True)


def test_changed_since_picks_scenarios_whose_files_or_environment_changed(four) -> None:
    four.environment("other", ENV)
    four.scenario("OTH-4", scenario("other env").replace("environment: e", "environment: other"))
    git(four.root, "init", "-q")
    git(four.root, "add", "-A")
    git(four.root, "commit", "-qm", "base")
    assert ids(Criteria(changed_since="HEAD")) == []
    four.write("scenarios/NORD-2/customer/export.csv", "a,b\n")  # new, untracked
    assert ids(Criteria(changed_since="HEAD")) == ["NORD-2"]
    four.environment("other", ENV + "workdir: /srv\n")  # an environment: its scenarios
    assert ids(Criteria(changed_since="HEAD")) == ["NORD-2", "OTH-4"]
    with pytest.raises(ConfigError) as caught:
        ids(Criteria(changed_since="no-such-branch"))
    assert caught.value.lines()[0].startswith("--changed-since: no commit 'no-such-branch'")


def test_shards_are_complete_disjoint_stable_and_balanced_by_duration() -> None:
    names = [f"S{n:02d}" for n in range(23)]
    durations = {n: float(i % 7 + 1) for i, n in enumerate(names) if i % 3}
    for parts in (1, 2, 3, 5, 30):
        split = shards.partition(names, parts, durations)
        assert len(split) == parts
        assert sorted(sum(split, [])) == names  # every scenario in exactly one part
        assert shards.partition(list(reversed(names)), parts, durations) == split  # stable
    split = shards.partition(names, 3, durations)
    mean = sum(durations.values()) / len(durations)
    loads = [sum(durations.get(n, mean) for n in part) for part in split]
    assert max(loads) - min(loads) <= max(durations.values())  # greedy's bound


def test_without_durations_shards_split_by_id() -> None:
    assert shards.partition(["d", "b", "a", "c", "e"], 2, {}) == [["a", "c", "e"], ["b", "d"]]


def test_a_long_scenario_gets_a_shard_to_itself() -> None:
    split = shards.partition(["a", "b", "c", "long"], 2, {"long": 30.0, "a": 1.0, "b": 1.0,
                                                           "c": 1.0})
    assert split == [["long"], ["a", "b", "c"]]


@pytest.mark.parametrize("text", ["3/2", "0/2", "1/0", "2", "a/b", "-1/2"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        shards.parse(text)
    assert caught.value.lines()[0].startswith(f"--shard: {text}" if "/" in text and
                                              text[0].isdigit() else "--shard: '")
