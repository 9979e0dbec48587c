"""What a person sees after a run (summary, baseline diffs) and what `--json` prints."""

from __future__ import annotations

import io

import pytest

from repro.compare.diff import ChannelDiff, Comparison
from repro.report.machine import run_json
from repro.report.terminal import Style, comparison_lines, summary
from repro.results.observations import INLINE_LIMIT
from repro.results.oracle import ConditionResult
from repro.results.record import RunRecord

from ..conftest import RUN_SECRET, attach, run_plan, step_run


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def record(project, tmp_path) -> RunRecord:
    rec = RunRecord(run_plan(project), "R-1", project.root / ".repro/runs/R-1")
    rec.image = {"ref": "busybox", "built": False}
    rec.status = "complete"
    return rec


def shown(record: RunRecord, out: io.StringIO | None = None,
          comparison: Comparison | None = None) -> str:
    out = out or io.StringIO()
    summary(record, comparison, out)
    return out.getvalue()


def diff(name: str, lines: list[str], verdict: str = "diverged") -> ChannelDiff:
    return ChannelDiff(name, "text", verdict, f"{len(lines)} lines", lines)


def test_a_reproduced_run_as_expected(record):
    record.steps += [step_run(record.directory, "import", "failed", 1, stdout="",
                              stderr="loading\nboom\n"),
                     step_run(record.directory, "check", "ok", 0, stdout="fine\n")]
    record.oracle.append(ConditionResult("step 'import' stderr matches /boom/", True,
                                         "boom"))
    record.reproduced = True
    assert shown(record).splitlines() == [
        "R  import crashes  (ticket SUP-7)",
        "environment tiny, image busybox (cached), run R-1",
        "",
        "  FAILED  import  exit 1   0.25s",
        "      err| loading",
        "      err| boom",
        "  ok      check   exit 0   0.25s",
        "      out| fine",
        "",
        "oracle (any of):",
        "  fired step 'import' stderr matches /boom/  -> boom",
        "",
        "baseline: none (record one with `repro baseline scenarios/R`)",
        "",
        "REPRODUCED  (expected: reproduces) -> as expected",
        "record: .repro/runs/R-1/record.json",
    ]


def test_a_case_without_a_baseline_does_not_point_at_its_temporary_folder(record):
    record.reproduced = True
    record.case = {"file": "/mail/ACME.tar.gz", "sha256": "ab" * 32}
    lines = shown(record).splitlines()
    assert "baseline: none (the case holds none: record one in its project, then pack it " \
        "again)" in lines
    assert not any("repro baseline" in line for line in lines)


@pytest.mark.parametrize("reproduced, verdict", [
    (False, "NOT REPRODUCED  (expected: reproduces) -> NOT as expected"),
    (None, "ERROR  (expected: reproduces) -> NOT as expected"),
])
def test_the_verdict_line(record, reproduced, verdict):
    record.reproduced = reproduced
    assert verdict in shown(record).splitlines()


def test_each_step_status_has_its_tag_and_a_skipped_step_shows_no_output(record):
    run = record.directory
    record.steps += [step_run(run, "slow", "timed_out", None, stdout="tick\n", seconds=30),
                     step_run(run, "stopped", "interrupted", None, stdout="half\n"),
                     step_run(run, "later", "skipped", None, stdout=None, stderr=None,
                              started=None)]
    lines = [line.rstrip() for line in shown(record).splitlines()]
    assert "  TIMEOUT slow              30.00s" in lines
    assert "  STOPPED stopped           0.25s" in lines
    assert "  skipped later" in lines
    after = lines[lines.index("  skipped later") + 1]
    assert after == ""  # nothing under a step that never ran (not even its empty streams)


def test_output_tails_are_short_and_control_characters_are_escaped(record):
    text = "".join(f"line {n}\n" for n in range(1, 10)) + "\x1b[31mred\x1b[0m\tdone\x07\n"
    record.steps.append(step_run(record.directory, "import", "ok", 0, stdout=text))
    lines = shown(record).splitlines()
    out = [line for line in lines if line.startswith("      out| ")]
    assert out == ["      out| ... 4 earlier lines in the record",
                   "      out| line 5", "      out| line 6", "      out| line 7",
                   "      out| line 8", "      out| line 9",
                   "      out| \\x1b[31mred\\x1b[0m\tdone\\x07"]  # a tab is harmless
    assert "\x1b" not in "".join(lines) and "\x07" not in "".join(lines)


def test_a_long_line_is_cut(record):
    record.steps.append(step_run(record.directory, "import", "ok", 0, stdout="z" * 500))
    (out,) = [line for line in shown(record).splitlines() if line.startswith("      out| ")]
    assert out == "      out| " + "z" * 200


def test_binary_and_oversized_output_is_summarised_not_printed(record):
    run = record.directory
    record.steps += [step_run(run, "dump", "ok", 0, stdout=b"PGDMP\x00\x01\x02" * 4),
                     step_run(run, "noisy", "ok", 0, stdout="y" * (INLINE_LIMIT + 1))]
    text = shown(record)
    assert "      out| (32 bytes, binary, in steps/dump.stdout)" in text.splitlines()
    assert f"      out| ({INLINE_LIMIT + 1} bytes, in steps/noisy.stdout)" in text.splitlines()
    assert "PGDMP" not in text and "yyyy" not in text


def test_exit_137_under_a_memory_limit_names_the_likely_cause(record):
    hint = ("      killed (SIGKILL): the memory limit (64 MiB, limits.memory) is the usual "
            "cause")
    record.steps.append(step_run(record.directory, "import", "failed", 137))
    assert hint in shown(record).splitlines()
    record.steps[0] = step_run(record.directory, "import", "failed", 1)
    assert "SIGKILL" not in shown(record)


def test_no_colour_codes_unless_the_stream_is_a_terminal(record, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    record.steps.append(step_run(record.directory, "import", "failed", 1, stderr="boom\n"))
    record.reproduced = True
    assert "\033[" not in shown(record)
    on_tty = shown(record, Tty())
    assert "\033[31;1mFAILED \033[0m" in on_tty and "\033[1mREPRODUCED\033[0m" in on_tty
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\033[" not in shown(record, Tty())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert "\033[" not in shown(record, Tty())


def test_a_diverged_baseline_is_shown_with_its_diff(record):
    record.reproduced = False
    comparison = attach(record, Comparison([
        diff("steps.check.stdout", [], "match"),
        diff("files.state", ["--- baseline", "+++ this run", "@@ -1 +1 @@", "-a", "+b"])]))
    lines = shown(record, comparison=comparison).splitlines()
    start = lines.index("baseline: DIVERGED in files.state")
    assert lines[start + 1:start + 7] == ["  files.state (text): 5 lines",
                                          "    --- baseline", "    +++ this run",
                                          "    @@ -1 +1 @@", "    -a", "    +b"]
    assert "steps.check.stdout" not in "\n".join(lines)


def test_a_matching_baseline_and_a_kept_sandbox(record):
    record.reproduced = True
    comparison = attach(record, Comparison([diff("steps.import.stdout", [], "match"),
                                            diff("files.state", [], "match")]))
    record.kept, record.sandbox = True, "repro-R-1"
    record.enter_hint = "docker exec -it repro-R-1 sh"  # what the Docker backend says
    lines = shown(record, comparison=comparison).splitlines()
    assert "baseline: match (2 channels)" in lines
    assert lines[-1] == ("sandbox kept: enter it with `docker exec -it repro-R-1 sh`; remove "
                         "it with `repro gc --run R-1`")


def test_comparison_lines_cut_each_channel_and_colour_only_on_a_terminal():
    comparison = Comparison([diff("a", [f"+{n}" for n in range(5)]), diff("b", [], "match"),
                             diff("c", ["-x"])])
    plain = comparison_lines(comparison, Style(io.StringIO()), per_channel=3)
    assert plain == ["  a (text): 5 lines", "    +0", "    +1", "    +2",
                     "    ... 2 more lines (`--json` or the run record has them all)",
                     "  c (text): 1 lines", "    -x"]
    coloured = comparison_lines(Comparison([diff("c", ["--- x", "-x", "+y", "@@ 1", " z"])]),
                                Style(Tty()))
    assert coloured == ["  \033[1mc\033[0m (text): 5 lines", "    \033[2m--- x\033[0m",
                        "    \033[31;1m-x\033[0m", "    \033[32m+y\033[0m",
                        "    \033[2m@@ 1\033[0m", "     z"]


def test_run_json(record):
    record.reproduced = True
    assert run_json(record, None) == {
        "scenario": "R", "run_id": "R-1", "status": "complete", "reproduced": True,
        "expected": "reproduces", "ok": True, "verdict": "REPRODUCED",
        "record": ".repro/runs/R-1/record.json", "error": None, "baseline": "none",
        "diverged": [], "sandbox": None, "when": None, "events": []}
    record.status, record.reproduced = "error", None
    record.error = f"the engine refused TOKEN={RUN_SECRET}"
    comparison = attach(record, Comparison([diff("files.state", ["-a"])]))
    record.kept, record.sandbox = True, "repro-R-1"
    data = run_json(record, comparison)
    assert (data["verdict"], data["ok"], data["error"]) == (
        "ERROR", None, "the engine refused TOKEN=***")
    # a run that stopped early was not compared, whatever comparison it holds
    assert (data["baseline"], data["diverged"], data["sandbox"]) == (
        "not compared", ["files.state"], "repro-R-1")


def test_an_oracle_match_the_tail_hides_is_shown_beside_it(record):
    # The oracle looks for /boom/ in import's stderr: its line scrolled out of the tail.
    text = "boom: HTTP 413\n" + "".join(f"retry {n}\n" for n in range(1, 9)) + "boom again\n"
    record.steps.append(step_run(record.directory, "import", "failed", 1, stderr=text))
    lines = shown(record).splitlines()
    err = [line for line in lines if line.startswith(("      err| ", "    match| "))]
    assert err == ["      err| ... 4 earlier lines in the record",
                   "      err| retry 4", "      err| retry 5", "      err| retry 6",
                   "      err| retry 7", "      err| retry 8", "      err| boom again",
                   "    match| err line 1: boom: HTTP 413"]  # not `boom again`: it shows


def test_a_match_in_an_output_too_large_to_inline_is_shown(record):
    text = "x\n" * (INLINE_LIMIT // 2) + "boom in the middle\n" + "y\n" * 10
    record.steps.append(step_run(record.directory, "import", "failed", 1, stderr=text))
    lines = shown(record).splitlines()
    assert f"    match| err line {INLINE_LIMIT // 2 + 1}: boom in the middle" in lines


def test_multi_line_patterns_and_evidence_stay_on_one_line_with_visible_escapes(record):
    record.oracle.append(ConditionResult("step 'import' stderr matches /Traceback\\n.*Error/",
                                         True, "stderr: Traceback\n  ValueError\tbad"))
    record.reproduced = True
    lines = shown(record).splitlines()
    start = lines.index("oracle (any of):")
    assert lines[start + 1] == ("  fired step 'import' stderr matches /Traceback\\n.*Error/  "
                                "-> stderr: Traceback\\n  ValueError\\tbad")
    assert lines[start + 2] == ""


def test_captures_and_queries_get_a_line_each(record):
    from repro.results.observations import CaptureObservation

    artifact = record.directory / "files" / "app.log"
    artifact.parent.mkdir(parents=True)
    artifact.write_text("started\n")
    rows = record.directory / "queries" / "totals.csv"
    rows.parent.mkdir(parents=True)
    rows.write_text('customer,note\nACME,"two\nlines"\nNORD,x\n')
    record.captures += [
        CaptureObservation("app.log", "/var/log/app.log", "file", artifact),
        CaptureObservation("state", "/srv/state", None, None),
        CaptureObservation("totals", "query:totals", "file", rows, query=True),
        CaptureObservation("broken", "query:broken", None, None, query=True,
                           error="ERROR:  relation \"x\" does not exist\nLINE 1: select"),
    ]
    lines = [line.rstrip() for line in shown(record).splitlines()]
    assert [line for line in lines if line.startswith(("  capture ", "  query "))] == [
        "  capture app.log  found, 8 bytes  /var/log/app.log",
        "  capture state    absent          /srv/state",
        "  query   totals   ok, 2 row(s)",
        "  query   broken   FAILED: ERROR:  relation \"x\" does not exist\\nLINE 1: select",
    ]
