"""Comparing normalised channels, and the baselines they are compared with."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from repro.compare import baseline
from repro.compare.channels import Channel
from repro.compare.diff import compare, diff_channel
from repro.compare.normalise import Normal, Rulebook
from repro.config.model import Rule
from repro.errors import ConfigError
from repro.plan.build import plan_scenario
from repro.plan.values import CapturePlan, Plan
from repro.results import reader

from ..conftest import Project, line_of


def sha(data: str | bytes) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


class Side:
    """Channels of one run, written to files and normalised like a real run's."""

    def __init__(self, folder: Path, rules: list[Rule] | None = None):
        self.folder = folder
        self.book = Rulebook(rules or [])
        self.normals: list[Normal] = []

    def content(self, name: str, content: str | bytes, kind: str = "text",
                capture: CapturePlan | None = None) -> Normal:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / name.replace("/", "_")
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        self.normals.append(self.book.normalise(Channel(name, kind, path=path,
                                                        capture=capture)))
        return self.normals[-1]

    def value(self, name: str, value: object, kind: str = "exit_code") -> Normal:
        self.normals.append(self.book.normalise(Channel(name, kind, value)))
        return self.normals[-1]


@pytest.fixture
def sides(tmp_path: Path) -> tuple[Side, Side]:
    return Side(tmp_path / "a"), Side(tmp_path / "b")


def pair(sides: tuple[Side, Side], name: str, old: str | bytes, new: str | bytes,
         kind: str = "text", capture: CapturePlan | None = None) -> dict:
    a, b = sides
    return diff_channel(a.content(name, old, kind, capture),
                        b.content(name, new, kind, capture)).to_dict()


# ---- text ------------------------------------------------------------------------------


def test_text_channels_diff_as_unified_lines(sides: tuple[Side, Side]) -> None:
    got = pair(sides, "steps.app.stdout", "start\nat noon\nvalue 1\nend\n",
               "start\nvalue 2\nend\n")
    assert got == {"channel": "steps.app.stdout", "kind": "text", "verdict": "diverged",
                   "summary": "2 line(s) removed, 1 added",
                   "diff": ["--- baseline", "+++ this run", "@@ -1,4 +1,3 @@", " start",
                            "-at noon", "-value 1", "+value 2", " end"],
                   "changes": [],
                   # both sides around the change, for a side-by-side view (repro report)
                   "sides": {"old_lines": 4, "new_lines": 3, "blocks": [
                       {"t": "same", "a": 0, "b": 0, "lines": ["start"]},
                       {"t": "change", "a": 1, "b": 1, "old": ["at noon", "value 1"],
                        "new": ["value 2"], "old_cut": 0, "new_cut": 0},
                       {"t": "same", "a": 3, "b": 2, "lines": ["end"]}],
                       "left_out": {"changes": 0, "lines": 0}}}


def test_equal_normalised_text_matches_whatever_the_raw_bytes(tmp_path: Path) -> None:
    a, b = Side(tmp_path / "a", [Rule(mask="iso8601")]), Side(tmp_path / "b",
                                                                [Rule(mask="iso8601")])
    old = a.content("steps.app.stdout", "at 2024-03-05T14:22:01Z\n")
    new = b.content("steps.app.stdout", "at 2024-03-06T09:00:00Z\n")
    assert old.raw_sha256 != new.raw_sha256
    assert diff_channel(old, new).to_dict() == {"channel": "steps.app.stdout", "kind": "text",
                                                "verdict": "match"}


@pytest.mark.parametrize(("old", "new"), [("a\r\nb\r\n", "a\nb\n"), ("a\nb\n", "a\nb")])
def test_line_ending_changes_diverge(sides: tuple[Side, Side], old: str, new: str) -> None:
    # Different normalised text is different behaviour (a CRLF config breaks parsers).
    got = pair(sides, "files.app.conf", old, new)
    assert got["verdict"] == "diverged"
    assert got["diff"] != ["--- baseline", "+++ this run"]


def test_the_summary_counts_every_changed_line_not_only_the_shown_ones(
        sides: tuple[Side, Side]) -> None:
    old = "".join(f"line {i}\n" for i in range(10))
    got = pair(sides, "steps.app.stdout", old, old + "".join(f"new {i}\n" for i in range(1000)))
    assert got["diff"][-1] == "... diff cut at 200 lines"
    assert got["summary"] == "0 line(s) removed, 1000 added"


def test_invalid_json_is_diffed_as_text_with_a_note(sides: tuple[Side, Side]) -> None:
    got = pair(sides, "files.out.json", '{"a": 1,}\n', '{"a": 2,}\n', kind="json")
    assert got == {"channel": "files.out.json", "kind": "text", "verdict": "diverged",
                   "summary": "1 line(s) removed, 1 added; not valid JSON (line 1: Expecting "
                              "property name enclosed in double quotes): compared as text",
                   "diff": ["--- baseline", "+++ this run", "@@ -1 +1 @@", '-{"a": 1,}',
                            '+{"a": 2,}'],
                   "changes": [],
                   "sides": {"old_lines": 1, "new_lines": 1, "blocks": [
                       {"t": "change", "a": 0, "b": 0, "old": ['{"a": 1,}'],
                        "new": ['{"a": 2,}'], "old_cut": 0, "new_cut": 0}],
                       "left_out": {"changes": 0, "lines": 0}}}


# ---- JSON and YAML ---------------------------------------------------------------------


def test_json_diffs_value_by_value(sides: tuple[Side, Side]) -> None:
    old = ('{"total": 10.5, "items": [{"id": 1, "tags": ["x"]}, {"id": 2}], "gone": true, '
           '"s": "abc", "list": [1, 2, 3], "same": null, "long": "' + "x" * 200 + '"}')
    new = ('{"total": 12.5, "items": [{"id": 1, "tags": ["x", "y"]}, {"id": 3}], '
           '"new": {"k": [1]}, "s": 5, "list": [1, 2], "same": null, "long": "y"}')
    got = pair(sides, "files.out.json", old, new, kind="json")
    assert got["summary"] == "8 value(s) differ"
    assert got["diff"] == [
        '+ new: {"k": [1]}',
        "- gone: true",
        '+ items[0].tags[1]: "y"',
        "- list[2]: 3",
        '~ s: "abc" -> 5',
        '~ items[1].id: 2 -> 3',
        '~ long: "' + "x" * 116 + '... -> "y"',
        "~ total: 10.5 -> 12.5",
    ]
    assert got["changes"] == [
        {"change": "added", "path": "new", "old": None, "new": {"k": [1]}},
        {"change": "removed", "path": "gone", "old": True, "new": None},
        {"change": "added", "path": "items[0].tags[1]", "old": None, "new": "y"},
        {"change": "removed", "path": "list[2]", "old": 3, "new": None},
        {"change": "changed", "path": "s", "old": "abc", "new": 5},
        {"change": "changed", "path": "items[1].id", "old": 2, "new": 3},
        {"change": "changed", "path": "long", "old": "x" * 200, "new": "y"},
        {"change": "changed", "path": "total", "old": 10.5, "new": 12.5},
    ]


def test_yaml_and_whole_document_changes(sides: tuple[Side, Side]) -> None:
    got = pair(sides, "files.out.yaml", "total: 10.5\nlist: [a, b]\nwhen: 2024-01-01\n",
               "total: 10.5\nlist: [a, c]\nwhen: 2024-01-02\n", kind="yaml")
    assert (got["kind"], got["diff"]) == ("yaml", ['~ list[1]: "b" -> "c"',
                                                   '~ when: "2024-01-01" -> "2024-01-02"'])
    got = pair(sides, "files.doc.json", "[1, 2]", '{"a": 1}', kind="json")
    assert (got["diff"], got["changes"]) == (
        ['~ (document): [1, 2] -> {"a": 1}'],
        [{"change": "changed", "path": "(document)", "old": [1, 2], "new": {"a": 1}}])


def test_a_null_value_is_shown_as_null_not_as_absent(sides: tuple[Side, Side]) -> None:
    got = pair(sides, "files.out.json", '{"a": null}', '{"a": 1}', kind="json")
    assert got["diff"] == ["~ a: null -> 1"]


def test_json_numbers_within_the_tolerance_are_equal(sides: tuple[Side, Side]) -> None:
    capture = CapturePlan("out.json", "/out.json", tolerance=0.01)
    got = pair(sides, "files.out.json", '{"t": 10.5, "l": [1.0, 2.0], "s": "1.0"}',
               '{"t": 10.505, "l": [1.001, 2.5], "s": "1.001"}', "json", capture)
    assert (got["diff"], got["summary"]) == (['~ l[1]: 2.0 -> 2.5', '~ s: "1.0" -> "1.001"'],
                                             "2 value(s) differ")
    got = pair(sides, "files.out.json", '{"t": 10.5}', '{"t": 10.505}', "json", capture)
    assert got == {"channel": "files.out.json", "kind": "json", "verdict": "match"}


def test_json_tolerance_holds_when_an_integer_becomes_a_float(
        sides: tuple[Side, Side]) -> None:
    # JSON has one number type: 10 and 10.004 are 0.004 apart (JSON.stringify(10.0) is "10").
    capture = CapturePlan("out.json", "/out.json", tolerance=0.01)
    got = pair(sides, "files.out.json", '{"total": 10}', '{"total": 10.004}', "json", capture)
    assert got["verdict"] == "match", got


# ---- CSV and TSV -----------------------------------------------------------------------


def test_keyed_rows_are_matched_by_key(tmp_path: Path) -> None:
    rules = [Rule(ignore_columns=["stamp"])]
    a, b = Side(tmp_path / "a", rules), Side(tmp_path / "b", rules)
    capture = CapturePlan("out.csv", "/out.csv", key=("id",))
    old = a.content("files.out.csv", "id,amount,stamp\n2,20,x\n1,10.5,y\n3,1,z\n", "csv",
                    capture)
    new = b.content("files.out.csv", "id,amount,stamp\n1,12.5,q\n2,20,w\n4,7,k\n", "csv",
                    capture)
    assert diff_channel(old, new).to_dict() == {
        "channel": "files.out.csv", "kind": "csv", "verdict": "diverged",
        "summary": "3 row change(s)",
        "diff": ["~ row id=1: amount: '10.5' -> '12.5'", "- row id=3: 3,1", "+ row id=4: 4,7"],
        "changes": [
            {"change": "changed", "key": {"id": "1"},
             "columns": {"amount": {"old": "10.5", "new": "12.5"}}},
            {"change": "removed", "row": {"id": "3", "amount": "1"}},
            {"change": "added", "row": {"id": "4", "amount": "7"}},
        ]}


def test_tsv_tolerance_and_two_column_keys(sides: tuple[Side, Side]) -> None:
    capture = CapturePlan("out.tsv", "/out.tsv", key=("region", "id"), tolerance=0.1)
    got = pair(sides, "files.out.tsv", "region\tid\tv\tname\neu\t1\t1.00\tx\nap\t1\t5\tz\n",
               "region\tid\tv\tname\neu\t1\t1.05\ty\n", "tsv", capture)
    assert (got["summary"], got["diff"]) == (
        "2 row change(s)", ["- row region=ap, id=1: ap\t1\t5\tz",
                            "~ row region=eu, id=1: name: 'x' -> 'y'"])


def test_rows_with_a_repeated_key_are_all_compared(sides: tuple[Side, Side]) -> None:
    capture = CapturePlan("out.csv", "/out.csv", key=("id",))
    got = pair(sides, "files.out.csv", "id,v\n1,a\n1,b\n", "id,v\n1,x\n1,b\n", "csv", capture)
    assert got["verdict"] == "diverged", got


def test_unkeyed_rows_and_changed_columns(sides: tuple[Side, Side]) -> None:
    unordered = CapturePlan("out.csv", "/out.csv", ordered=False)
    got = pair(sides, "files.out.csv", "id,v\n2,b\n1,a\n", "id,v\n1,a\n3,c\n", "csv", unordered)
    assert (got["summary"], got["diff"], got["changes"]) == (
        "2 row change(s)", ["- row: 2,b", "+ row: 3,c"],
        [{"change": "removed", "row": "2,b"}, {"change": "added", "row": "3,c"}])
    assert pair(sides, "files.out.csv", "id,v\n2,b\n1,a\n", "id,v\n1,a\n2,b\n", "csv",
                unordered)["verdict"] == "match"
    ordered = pair(sides, "files.out.csv", "id,v\n2,b\n1,a\n", "id,v\n1,a\n2,b\n3,c\n", "csv")
    assert ordered["diff"] == ["- row: 2,b", "+ row: 2,b", "+ row: 3,c"]
    got = pair(sides, "files.out.csv", "id,v\n1,a\n", "id,w\n1,a\n", "csv")
    assert (got["diff"], got["changes"]) == (
        ["~ columns: id, v -> id, w"], [{"change": "columns", "old": ["id", "v"],
                                         "new": ["id", "w"]}])


# ---- values: exit codes, absences, binaries, changed kinds -----------------------------


def test_values_and_kinds_diff_as_one_before_and_after(tmp_path: Path) -> None:
    a, b = Side(tmp_path / "a"), Side(tmp_path / "b")

    def diff(old: Normal, new: Normal) -> tuple:
        got = diff_channel(old, new)
        return got.kind, got.summary, got.lines, got.changes

    assert diff(a.value("steps.s.exit_code", 0), b.value("steps.s.exit_code", 1)) == (
        "exit_code", "exit code 0 -> exit code 1", ["- exit code 0", "+ exit code 1"],
        [{"change": "changed", "old": 0, "new": 1}])
    assert diff(a.value("steps.s.exit_code", 0), b.value("steps.s.exit_code", "timed_out"))[1] \
        == "exit code 0 -> timed_out"
    three, four = b"\0\1\2", b"\0\1\2\3"
    old, new = a.content("files.core", three, "binary"), b.content("files.core", four, "binary")
    before, after = f"3 bytes, sha256 {sha(three)[:12]}", f"4 bytes, sha256 {sha(four)[:12]}"
    assert diff(old, new) == ("binary", f"{before} -> {after}", [f"- {before}", f"+ {after}"],
                              [{"change": "changed", "old": {"sha256": sha(three), "size": 3},
                                "new": {"sha256": sha(four), "size": 4}}])
    gone = a.value("files.out.json", "(absent)", "absent")
    came = b.content("files.out.json", '{"a": 1}', "json")
    assert diff(gone, came)[:3] == ("json", "(absent) -> json, 8 bytes",
                                    ["- (absent)", "+ json, 8 bytes"])
    blob = b.content("files.x", b"\0hi", "binary")
    assert diff(a.content("files.x", "hi\n"), blob)[1] == \
        f"text, 3 bytes -> 3 bytes, sha256 {blob.sha256[:12]}"


# ---- whole comparisons -----------------------------------------------------------------


def test_compare_keeps_channel_order_reports_missing_ones_and_hides_skipped_outputs(
        tmp_path: Path) -> None:
    a, b = Side(tmp_path / "a"), Side(tmp_path / "b")
    a.value("steps.build.exit_code", 0)
    a.content("steps.build.stdout", "ok\n")
    a.value("steps.test.exit_code", 0)
    a.content("steps.test.stdout", "passed\n")
    a.content("steps.test.stderr", "")
    a.value("steps.lint.exit_code", "skipped")
    a.content("files.old.log", "x\n")
    b.value("steps.build.exit_code", 1)
    b.content("steps.build.stdout", "ok\n")
    b.value("steps.test.exit_code", "skipped")
    b.value("steps.lint.exit_code", 0)
    b.content("steps.lint.stdout", "clean\n")
    b.content("files.new.log", "y\n")
    got = compare(a.normals, b.normals, labels=("run 1", "run 2"))
    assert got.verdict == "diverged"
    assert got.diverged == ["steps.build.exit_code", "steps.test.exit_code",
                            "steps.lint.exit_code", "files.old.log", "files.new.log"]
    assert got.to_dict()["channels"] == [
        {"channel": "steps.build.exit_code", "kind": "exit_code", "verdict": "diverged",
         "summary": "exit code 0 -> exit code 1", "diff": ["- exit code 0", "+ exit code 1"],
         "changes": [{"change": "changed", "old": 0, "new": 1}]},
        {"channel": "steps.build.stdout", "kind": "text", "verdict": "match"},
        {"channel": "steps.test.exit_code", "kind": "exit_code", "verdict": "diverged",
         "summary": "exit code 0 -> skipped", "diff": ["- exit code 0", "+ skipped"],
         "changes": [{"change": "changed", "old": 0, "new": "skipped"}]},
        {"channel": "steps.lint.exit_code", "kind": "exit_code", "verdict": "diverged",
         "summary": "skipped -> exit code 0", "diff": ["- skipped", "+ exit code 0"],
         "changes": [{"change": "changed", "old": "skipped", "new": 0}]},
        {"channel": "files.old.log", "kind": "text", "verdict": "diverged",
         "summary": "missing from run 2", "diff": ["only in run 1"], "changes": []},
        {"channel": "files.new.log", "kind": "text", "verdict": "diverged",
         "summary": "missing from run 1", "diff": ["only in run 2"], "changes": []},
    ]
    same = compare(a.normals[:2], a.normals[:2])
    assert (same.verdict, same.diverged, same.to_dict()["verdict"]) == ("match", [], "match")


def test_equal_raw_hashes_match_without_looking_at_the_text() -> None:
    def text(body: str, raw: str | None) -> Normal:
        return Normal("steps.s.stdout", "text", None, body, sha(body), raw, len(body))

    same_raw = [text("old\n", "r" * 64), text("new\n", "r" * 64)]
    assert compare([same_raw[0]], [same_raw[1]]).verdict == "match"
    # A missing raw hash (a hand-edited baseline) never counts as equal, not even to another.
    for old, new in [(text("old\n", None), text("new\n", None)),
                     (text("old\n", None), text("new\n", "r" * 64))]:
        got = compare([old], [new])
        assert (got.verdict, got.channels[0].lines[2:]) == ("diverged",
                                                           ["@@ -1 +1 @@", "-old", "+new"])


# ---- baselines -------------------------------------------------------------------------

SCENARIO = """\
environment: app
steps:
  - name: start
    run: app --port {{ port }}
capture:
  - {path: /srv/out.csv, key: [id], tolerance: 0.5}
oracle:
  any:
    - step: start
      failed: true
"""


class Run:
    """A finished run of SCENARIO: its record and files, as `repro run` leaves them."""

    def __init__(self, folder: Path, stdout: str, csv: str):
        self.folder = folder
        for rel, data in [("start.out", stdout), ("start.err", ""), ("out.csv", csv)]:
            (folder / rel).parent.mkdir(parents=True, exist_ok=True)
            (folder / rel).write_text(data)
        self.record = reader.from_dict({
            "run_id": "T-1-20240305T142201Z-a1b2", "parameters": {"port": 8080},
            "steps": [{"name": "start", "status": "ok", "exit_code": 0,
                       "stdout_file": "start.out", "stderr_file": "start.err"}],
            "captures": [{"name": "out.csv", "path": "/srv/out.csv", "exists": True,
                          "kind": "file", "artifact": "out.csv"}]}, folder)

    def observed(self, plan: Plan) -> list[Normal]:
        return baseline.observe(plan, self.record)


@pytest.fixture
def plan(project: Project) -> Plan:
    project.app(SCENARIO)
    return plan_scenario(Path("T-1"))


STDOUT = "Listening on 8080 since 2024-03-05T14:22:01Z\n  hello  \n"


@pytest.mark.parametrize("inline_limit", [baseline.INLINE_LIMIT, 10])
def test_baselines_round_trip_inline_and_in_side_files(
        plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inline_limit: int) -> None:
    monkeypatch.setattr(baseline, "INLINE_LIMIT", inline_limit)
    run = Run(tmp_path / "run", STDOUT, "id,amount\n2,20\n1,10.5\n")
    observed = run.observed(plan)
    baseline.write(plan, observed, run.record)
    loaded = baseline.load(plan)

    def fields(normals: list[Normal]) -> list[tuple]:
        return [(n.name, n.kind, n.value, n.text, n.sha256, n.raw_sha256, n.size, n.key,
                 n.tolerance) for n in normals]

    assert fields(loaded) == fields(observed)
    assert [n.name for n in loaded] == ["steps.start.exit_code", "steps.start.stdout",
                                        "steps.start.stderr", "files.out.csv"]
    assert (loaded[3].key, loaded[3].tolerance) == (("id",), 0.5)
    side = plan.baseline_path.parent / "baseline.d" / "steps.start.stdout"
    assert side.is_file() == (inline_limit == 10)
    assert baseline.check(plan, loaded, run.record).verdict == "match"


@pytest.mark.parametrize("inline_limit", [baseline.INLINE_LIMIT, 10])
def test_a_hand_edited_baseline_is_compared_by_its_text(
        plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, inline_limit: int) -> None:
    monkeypatch.setattr(baseline, "INLINE_LIMIT", inline_limit)
    run = Run(tmp_path / "run", STDOUT, "id,amount\n1,10.5\n")
    baseline.write(plan, run.observed(plan), run.record)
    # The approved behaviour changes by hand; the run's raw output is still the recorded one.
    for channel, old, new in [("steps.start.stdout", "hello", "goodbye"),
                              ("files.out.csv", "1,10.5", "1,11.5")]:
        stored = plan.baseline_path.parent / "baseline.d" / channel
        stored = stored if stored.exists() else plan.baseline_path
        assert stored.read_text().count(old) == 1
        stored.write_text(stored.read_text().replace(old, new))
    loaded = baseline.load(plan)
    assert [n.raw_sha256 for n in loaded[1:4:2]] == [None, None]
    got = baseline.check(plan, loaded, run.record)
    assert got.diverged == ["steps.start.stdout", "files.out.csv"]
    assert got.channels[1].lines == ["--- baseline", "+++ this run", "@@ -1,2 +1,2 @@",
                                     " Listening on 8080 since 2024-03-05T14:22:01Z",
                                     "-  goodbye  ", "+  hello  "]
    assert got.channels[3].lines == ["~ row id=1: amount: '11.5' -> '10.5'"]


@pytest.mark.parametrize(("edit", "needle", "message"), [
    (lambda text: text.replace("kind: exit_code", "kind: exitcode"), "kind: exitcode",
     "channels.steps.start.exit_code.kind: must be one of exit_code, absent, text, json, "
     "yaml, csv, tsv, binary, got 'exitcode' (did you mean 'exit_code'?); re-record it with "
     "`repro baseline scenarios/T-1`"),
    (lambda text: text.replace("format: 1", "format: 2"), "format: 2",
     "format: unknown baseline format 2; this repro writes format 1; re-record it with "
     "`repro baseline scenarios/T-1`"),
    (None, "file: baseline.d/steps.start.stdout",
     "channels.steps.start.stdout.file: scenarios/T-1/baseline.d/steps.start.stdout is "
     "missing"),
    (lambda text: text.replace("app --port {{ port }}", "app --port {{ port }} -v"), "steps:",
     "steps: recorded for other steps (command of start changed): re-record it with "
     "`repro baseline scenarios/T-1`"),
])
def test_a_broken_baseline_is_a_config_error_at_its_line(
        plan: Plan, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, edit, needle: str,
        message: str) -> None:
    monkeypatch.setattr(baseline, "INLINE_LIMIT", 10)
    run = Run(tmp_path / "run", STDOUT, "id,amount\n1,10.5\n")
    path = baseline.write(plan, run.observed(plan), run.record)
    if edit is None:
        (path.parent / "baseline.d" / "steps.start.stdout").unlink()
    else:
        path.write_text(edit(path.read_text()))
    with pytest.raises(ConfigError) as caught:
        baseline.load(plan)
    line = line_of(path.read_text(), needle)
    assert caught.value.lines() == [f"scenarios/T-1/baseline.yaml:{line}: {message}"]
