"""The HTML page of a run, read back as a browser's parser reads it (the real browser
renders it in tests/integration/test_report.py): escaping, bounds, the index's inputs."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from repro.compare import excerpt, textdiff
from repro.compare.channels import Channel
from repro.compare.diff import compare
from repro.errors import ConfigError
from repro.report import html
from repro.report.html import sides, sources
from repro.results.oracle import ConditionResult
from repro.results.record import RunRecord

from ..conftest import RUN_SECRET, attach, run_plan, step_run

HOSTILE = '<script>document.title="x"</script> "><img src=x onerror=alert(1)>'


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags_of(text: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Tags()
    parser.feed(text)
    return parser.tags


def _record(project, stdout: str, baseline_stdout: str) -> RunRecord:
    rec = RunRecord(run_plan(project), "R-1", project.root / ".repro/runs/R-1")
    rec.image = {"ref": "busybox", "built": False}
    rec.status = "complete"
    rec.steps.append(step_run(rec.directory, "import", "failed", 1, stdout=stdout,
                              stderr=f"boom {HOSTILE}\n"))
    rec.oracle.append(ConditionResult(f"step 'import' stderr matches /{HOSTILE}/", True,
                                      f"stderr: boom {HOSTILE}"))
    rec.reproduced = True
    base = rec.directory.parent / "baseline.out"
    base.write_text(baseline_stdout)
    attach(rec, compare([Channel("steps.import.stdout", "text", path=base)],
                        [Channel("steps.import.stdout", "text",
                                 path=rec.directory / "steps/import.stdout")]))
    rec.write()
    return rec


def test_customer_html_stays_text_and_only_the_pages_script_may_run(project):
    rec = _record(project, f"total 10\nname {HOSTILE}\n\x1b[31mred\x00\n",
                  "total 10\nname plain\n")
    page = html.run_html(rec.directory)
    tags = tags_of(page)
    assert [t for t, _ in tags if t in ("img", "script")] == ["script"]
    assert not any(name.startswith("on") for _, attrs in tags for name in attrs)
    assert page.count(HOSTILE) == 0  # only ever escaped
    assert "&lt;script&gt;document.title=" in page
    assert RUN_SECRET not in page  # the command's token is masked in the record
    assert "\\x1b[31mred\\x00" in page and "\x1b" not in page and "\x00" not in page
    # Nothing may load from anywhere; no inline script or style but the page's own.
    csp = next(a["content"] for t, a in tags if t == "meta" and
               a.get("http-equiv") == "Content-Security-Policy")
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert not re.search(r"(src|href)=\"(https?:)?//", page)


def test_a_million_line_divergence_is_embedded_around_its_changes(project):
    old = [f"line {i} ok" for i in range(1_000_000)]
    new = list(old)
    for i in (1000, 500_000, 999_000):
        new[i] = f"line {i} FAILED"
    rec = _record(project, "\n".join(new) + "\n", "\n".join(old) + "\n")
    page = html.run_html(rec.directory)
    assert len(page) < 200_000
    for i in (1000, 500_000, 999_000):
        assert f"line {i} <mark>FAILED</mark>" in page and f"line {i} <mark>ok</mark>" in page
    skipped = [int(n) for n in re.findall(r"… (\d+) unchanged line\(s\) not embedded", page)]
    assert sum(skipped) > 990_000  # said, not embedded
    # The step's output, only in its file (over 1 MiB), by its end.
    assert "its last 200 lines shown" in page and "line 999999 ok" in page
    assert "line 999799 ok" not in page


def test_the_excerpt_accounts_for_every_line_and_is_bounded():
    a = [f"l{i}" for i in range(5000)]
    b = list(a)
    b[10], b[2000] = "x", "y"
    b.insert(4000, "inserted")
    found = excerpt.excerpt(textdiff.opcodes(a, b), a, b)
    assert any(block["t"] == "fold" for block in found["blocks"])  # long stretches folded
    covered = 0
    for block in found["blocks"]:
        if block["t"] == "fold":
            assert len(block["head"]) + len(block["tail"]) + block["skipped"] == block["n"]
            covered += block["n"]
        else:
            covered += len(block["lines"]) if block["t"] == "same" else len(block["old"])
    assert covered == len(a)
    # Everything changed: what is kept stops at the bound and the rest is counted.
    many = excerpt.excerpt([("replace", i, i + 1, i, i + 1) if i % 2 else
                            ("equal", i, i + 1, i, i + 1) for i in range(20_000)],
                           a * 4, a * 4)
    kept = sum(len(x.get("old", [])) + len(x.get("new", [])) + len(x.get("lines", []))
               for x in many["blocks"])
    assert kept <= excerpt.MAX_LINES + 2 * excerpt.MAX_CHANGE
    assert many["left_out"]["changes"] > 0
    # Long lines: the characters kept are bounded too.
    wide = [f"{i} " + "x" * 5000 for i in range(400)]
    changed = [line + "!" for line in wide]
    bounded = excerpt.excerpt([("replace", 0, 400, 0, 400)], wide, changed)
    chars = sum(len(x) for b in bounded["blocks"] for x in b.get("old", []) + b.get("new", []))
    assert chars <= 2 * excerpt.MAX_CHANGE * (excerpt.MAX_CHARS + 1)
    spread = [("replace", i, i + 1, i, i + 1) for i in range(400)]
    bounded = excerpt.excerpt(spread, wide, changed)
    chars = sum(len(x) for b in bounded["blocks"] for x in b.get("old", []) + b.get("new", []))
    assert chars <= excerpt.MAX_TOTAL + 2 * (excerpt.MAX_CHARS + 1)
    assert bounded["left_out"]["changes"] > 300


def test_changed_words_are_marked_on_each_side():
    old, new = sides.marked("greeting=hello today", 'greeting=<b>"x"</b> today')
    assert [t for changed, t in old if changed] == ["hello"]
    assert "".join(t for changed, t in new if changed) == '<b>"x"</b>'
    assert "".join(t for _, t in new) == 'greeting=<b>"x"</b> today'


def test_an_old_records_unified_diff_is_laid_out_side_by_side():
    rows = sides.blocks({"kind": "text", "diff": [
        "--- baseline", "+++ this run", "@@ -4,3 +4,3 @@", " a", "-b 1", "+b 2", " c"]})
    shown = [(r.a, r.b, r.kind) for r in rows if isinstance(r, sides.Row)]
    assert shown == [(4, 4, "same"), (5, 5, "change"), (6, 6, "same")]


def test_the_index_of_a_replays_json(project, cli, tmp_path):
    rec = _record(project, "a\n", "b\n")
    summary = project.root / "replay.json"
    summary.write_text(json.dumps([
        {"scenario": "R", "run_id": "R-1", "record": ".repro/runs/R-1/record.json",
         "as_expected": True},
        {"scenario": "GONE", "run_id": None, "record": None, "result": "not run"}]))
    done = cli("report", "replay.json")
    assert done.exit_code == 0, done.stderr
    assert done.stdout.strip() == "replay.html"
    index = (project.root / "replay.html").read_text()
    hrefs = [a["href"] for t, a in tags_of(index) if t == "a"]
    assert hrefs == [".repro/runs/R-1/report.html"]
    assert (rec.directory / "report.html").is_file()
    assert "GONE" in index and "did not run" in index


@pytest.mark.parametrize("content, message", [
    ("[1, 2]", "not a replay's JSON"),
    ("[{\"a\": ", "not a replay's JSON"),
])
def test_a_summary_that_is_not_one_is_bad_input(project, cli, content, message):
    (project.root / "bad.json").write_text(content)
    done = cli("report", "bad.json")
    assert done.exit_code == 2
    assert done.stderr.startswith("repro: error: bad.json") and message in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_an_unknown_run_is_bad_input(project, cli):
    done = cli("report", "no-such-run")
    assert done.exit_code == 2 and "no such run" in done.stderr


def test_junit_records_are_found(project, tmp_path):
    rec = _record(project, "a\n", "b\n")
    xml = tmp_path / "junit.xml"
    xml.write_text('<?xml version="1.0"?><testsuites><testsuite name="s">'
                   '<testcase name="R"><system-out>scenario: x\nrecord: '
                   f'{rec.path}</system-out></testcase></testsuite></testsuites>')
    found = sources.summary(str(xml), Path.cwd(), project.root)
    assert [e.folder for e in found.entries] == [rec.directory]
    xml.write_text("<testsuites><testcase")
    with pytest.raises(ConfigError, match="not a JUnit XML"):
        sources.summary(str(xml), Path.cwd(), project.root)


def test_the_timeline_draws_services_steps_background_faults_waits_and_the_oracle():
    from repro.report.html.timeline import drawing

    start = "2026-01-01T00:00:10.000+00:00"

    def ev(offset: float, kind: str, entry: str, detail: str = "") -> dict:
        return {"offset_s": offset, "kind": kind, "entry": entry, "detail": detail}

    data = {
        "timeline_start": start,
        "services": {"db": {"ready_s": 2.0}, "cache": {"ready_s": 1.0}},
        "steps": [{"name": "api", "status": "stopped", "background": True},
                  {"name": "load", "status": "failed", "exit_code": 1,
                   "instances": [{}, {}], "exit_codes": {"exit 1": 2}}],
        "faults": [{"name": "cut-db", "description": "disconnect db", "status": "done",
                    "undo": "reconnect", "undone_at": "2026-01-01T00:00:14.000+00:00"}],
        "events": [ev(-0.5, "ready", "services", "db, cache"), ev(0.0, "start", "api"),
                   ev(0.2, "output", "api", "<listening>"), ev(0.1, "waited", "port 80"),
                   ev(1.0, "start", "cut-db"), ev(1.1, "end", "cut-db", "done"),
                   ev(1.2, "start", "load"), ev(2.5, "end", "load", "exit 1"),
                   ev(2.0, "oracle", "load"), ev(5.0, "stopped", "api")],
        "when": {"offset_s": 2.0, "step": "load"}}
    drawn = drawing(data)
    assert drawn is not None
    lanes = {b.lane: b for b in drawn.bars}
    assert [b.lane for b in drawn.bars] == ["db", "cache", "api", "port 80", "cut-db", "load"]
    # Services one after the other, the last ready at the `ready` event.
    assert (lanes["db"].start, lanes["db"].end) == (-3.5, -1.5)
    assert (lanes["cache"].start, lanes["cache"].end) == (-1.5, -0.5)
    assert lanes["api"].kind == "background" and lanes["api"].ticks == [0.2]
    assert lanes["load"].kind == "repeat" and lanes["load"].status == "failed"
    assert lanes["cut-db"].kind == "fault" and lanes["cut-db"].end == pytest.approx(4.0)
    assert lanes["port 80"].kind == "wait"
    # x grows with time; the oracle's line sits where the load bar's offset 2.0 would.
    assert lanes["db"].x < drawn.zero_x < lanes["load"].x < drawn.oracle_x  # type: ignore
    load = lanes["load"]
    assert drawn.oracle_x == pytest.approx(load.x + (2.0 - 1.2) / (2.5 - 1.2) * load.width,
                                           abs=0.05)


def test_a_record_missing_most_keys_still_renders(tmp_path):
    # A run killed early (or a record of another repro version) has few keys.
    (tmp_path / "record.json").write_text(json.dumps(
        {"run_id": "R-9", "status": "killed", "steps": [
            {"name": "a", "status": "interrupted"}], "baseline": {"verdict": "not compared"}}))
    page = html.run_html(tmp_path)
    assert ">ERROR<" in page and "no verdict" in page and "R-9" in page


def test_structured_channels_side_by_side_by_path_and_row(tmp_path):
    def side(name: str, text: str) -> Channel:
        path = tmp_path / f"{name}-{len(list(tmp_path.iterdir()))}"
        path.write_text(text)
        return Channel(name, "json" if name.endswith("json") else "text", path=path)

    got = compare([side("files.a.json", '{"total": 10.5, "who": "<b>a</b>"}')],
                  [side("files.a.json", '{"total": 12.5, "who": "<b>a</b>", "new": 1}')])
    rows = sides.blocks(got.to_dict()["channels"][0])
    shown = [(r.label, "".join(t for _, t in r.old), "".join(t for _, t in r.new))
             for r in rows if isinstance(r, sides.Row)]
    assert shown == [("new", "", "1"), ("total", "10.5", "12.5")]
    # A keyed CSV row: each changed column beside its old value.
    csv = {"kind": "csv", "changes": [{"change": "changed", "key": {"id": "1"},
                                       "columns": {"amount": {"old": "10.5", "new": "12.5"}}}]}
    (row,) = sides.blocks(csv)
    assert isinstance(row, sides.Row) and row.label == "row id=1: amount"
    assert (row.old, row.new) == ([(True, "10"), (False, ".5")], [(True, "12"), (False, ".5")])


def test_a_broken_record_is_bad_input(project, cli):
    run = project.root / ".repro/runs/R-2"
    run.mkdir(parents=True)
    (run / "record.json").write_text('{"run_id": "R-2", "steps": [')
    (project.root / "replay.json").write_text(json.dumps(
        [{"scenario": "R", "record": ".repro/runs/R-2/record.json"}]))
    for target in ("R-2", "replay.json"):
        done = cli("report", target)
        assert done.exit_code == 2, done.stderr
        assert "record.json: not a run record" in done.stderr
