"""The determinism gate: what varies between repeated runs, and a rule that removes it."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.compare.channels import Channel
from repro.compare.determinism import Variation, variations
from repro.compare.diff import compare
from repro.compare.normalise import Normal, Rulebook
from repro.config.model import Rule
from repro.plan.values import CapturePlan

OUT = "steps.app.stdout"


class Runs:
    """Repeated runs of one channel, normalised with a rulebook."""

    def __init__(self, folder: Path, name: str = OUT, kind: str = "text",
                 capture: CapturePlan | None = None):
        self.folder, self.name, self.kind, self.capture = folder, name, kind, capture
        folder.mkdir(exist_ok=True)

    def normal(self, content: str, rules: list[Rule]) -> Normal:
        path = self.folder / f"run{len(list(self.folder.iterdir()))}"
        path.write_text(content)
        return Rulebook(rules).normalise(Channel(self.name, self.kind, path=path,
                                                 capture=self.capture))

    def of(self, contents: list[str], rules: list[Rule] | None = None) -> list[list[Normal]]:
        return [[self.normal(c, rules or [])] for c in contents]


def rule_of(proposal: dict) -> Rule:
    return Rule(**{("with_" if k == "with" else k): v for k, v in proposal.items()})


def assert_proposals_fix_it(runs: Runs, contents: list[str], found: list[Variation],
                            stable: list[str]) -> None:
    """Following every proposal makes the runs equal and leaves the stable lines alone.

    Saying honestly that no rule fixes it (`fixable=False`) is a fine answer too.
    """
    assert found
    if not all(v.fixable for v in found):
        assert all(v.rule == {} for v in found if not v.fixable), found
        return
    rules = [rule_of(v.rule) for v in found]
    fixed = runs.of(contents, rules)
    assert compare(fixed[0], fixed[1]).verdict == "match", [v.rule for v in found]
    lines = fixed[0][0].text.splitlines()
    assert [line for line in stable if line not in lines] == [], lines


@pytest.mark.parametrize(("first", "second", "where", "proposal"), [
    ("at 2024-03-05T14:22:01.123Z", "at 2024-03-05T14:22:02.456Z", "line 2", {"mask": "iso8601"}),
    ("req 123e4567-e89b-12d3-a456-426614174000", "req 923e4567-e89b-12d3-a456-426614174000",
     "line 2", {"mask": "uuid"}),
    ("took 12ms", "took 15ms", "line 2", {"mask": "duration"}),
    ("worker pid=41 up", "worker pid=57 up", "line 2", {"mask": "pid"}),
    ("count 17 widgets", "count 18 widgets", "line 2",
     {"replace": r"(?<=count\ )\d+", "with": "<varies>"}),
    ("b\na", "a\nb", "line order", {"sort_lines": True}),
    ("token ab-x", "token zz-qq", "line 2", None),
    ("took 12ms pid=5", "took 15ms pid=6", "line 2", None),
    ("", "extra", None, None),
], ids=["iso8601", "uuid", "duration", "pid", "count", "reordered", "random-token",
        "two-values-one-line", "added-line"])
def test_a_varying_line_gets_a_rule_that_removes_the_variation(
        tmp_path: Path, first: str, second: str, where: str | None,
        proposal: dict | None) -> None:
    runs = Runs(tmp_path)
    stable = ["start", "done"]
    contents = [f"start\n{first}\ndone\n".replace("\n\n", "\n"), f"start\n{second}\ndone\n"]
    found = variations(runs.of(contents))
    if where is not None:
        sample = "start" if where == "line order" else first.splitlines()[0]
        assert [(v.channel, v.where, v.first) for v in found][:1] == [(OUT, where, sample)]
    if proposal is not None:
        assert [v.rule for v in found] == [{**proposal, "channels": [OUT]}]
    assert_proposals_fix_it(runs, contents, found, stable)


def test_structured_channels_get_ignore_fields_and_ignore_columns(tmp_path: Path) -> None:
    doc = Runs(tmp_path / "json", "files.out.json", "json")
    contents = ['{"items": [{"id": 1}, {"id": 2}], "t": 1, "ok": true}',
                '{"items": [{"id": 1}, {"id": 3}], "t": 2, "ok": true}']
    found = variations(doc.of(contents))
    assert [(v.where, v.first, v.second, v.rule) for v in found] == [
        ("items[1].id", "2", "3", {"ignore_fields": ["items.*.id"],
                                   "channels": ["files.out.json"]}),
        ("t", "1", "2", {"ignore_fields": ["t"], "channels": ["files.out.json"]}),
    ]
    assert_proposals_fix_it(doc, contents, found, ['  "ok": true,'])
    table = Runs(tmp_path / "csv", "files.out.csv", "csv",
                 CapturePlan("out.csv", "/out.csv", key=("id",)))
    contents = ["id,v,stamp\n1,a,x\n2,b,y\n", "id,v,stamp\n1,a,q\n2,b,r\n"]
    found = variations(table.of(contents))
    assert [(v.where, v.first, v.second, v.rule) for v in found] == [
        ("column stamp", "x", "q", {"ignore_columns": ["stamp"], "channels": ["files.out.csv"]}),
    ]
    assert_proposals_fix_it(table, contents, found, ["1,a", "2,b"])


def test_values_that_vary_cannot_be_fixed_by_a_rule(tmp_path: Path) -> None:
    book = Rulebook([])
    text = Runs(tmp_path).normal("hi\n", [])
    runs = [[book.normalise(Channel("steps.app.exit_code", "exit_code", 0)), text],
            [book.normalise(Channel("steps.app.exit_code", "exit_code", 1))]]
    assert variations(runs) == [
        Variation("steps.app.exit_code", "value", "0", "1", {}, fixable=False),
        Variation(OUT, "value", "text", "absent", {}, fixable=False),
    ]


def test_one_finding_per_rule_however_many_runs_show_it(tmp_path: Path) -> None:
    runs = Runs(tmp_path)
    base = "at 2024-03-05T14:22:01Z\nok\n"
    found = variations(runs.of([base, base, "at 2024-03-05T14:22:07Z\nok\n",
                                "at 2024-03-05T14:22:09Z\nok\n"]))
    assert found == [Variation(OUT, "line 1", "at 2024-03-05T14:22:01Z",
                               "at 2024-03-05T14:22:07Z",
                               {"mask": "iso8601", "channels": [OUT]})]
    assert variations(runs.of([base])) == variations(runs.of([base, base])) == []
