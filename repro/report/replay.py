"""Show a replay: a line per scenario as it ends, the summary table, `--json`.

A `Case` is one scenario of a replay as it is reported: its runs (one, or N with
`--repeat`), or why it did not run. `repro.replay` fills it in; this module only reads.
"""

from __future__ import annotations

import io
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from repro.config.yaml_source import display_path
from repro.errors import ReproError
from repro.report.machine import run_json
from repro.report.terminal import Style, comparison_lines
from repro.results.outcome import BaselineVerdict, RunStatus
from repro.results.record import RunRecord

if TYPE_CHECKING:
    from repro.compare.determinism import Variation
    from repro.compare.diff import Comparison


@dataclass
class CaseRun:
    """One run of a scenario in the replay."""

    record: RunRecord
    comparison: Comparison | None
    error: ReproError | None
    seconds: float  # wall time of the run, image preparation included

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.record.ok)

    @property
    def baseline(self) -> str:
        if self.record.status != RunStatus.COMPLETE:
            return BaselineVerdict.NOT_COMPARED.value
        return self.record.baseline_verdict.value


@dataclass
class Case:
    """A scenario of the replay: its runs, or why none ran."""

    scenario_id: str
    title: str
    expect: str
    environment: str
    path: Path  # its scenario.yaml
    runs: list[CaseRun] = field(default_factory=list)
    not_run: str | None = None  # why it did not run (or not every repeat did)
    flaky: bool = False  # --repeat: the verdict or the baseline comparison varied
    varied: list[Variation] = field(default_factory=list)  # what varied, with fixing rules

    @property
    def ok(self) -> bool:
        return self.not_run is None and not self.flaky and bool(self.runs) and \
            all(r.ok for r in self.runs)

    @property
    def interrupted(self) -> bool:
        return any(r.record.status == RunStatus.INTERRUPTED for r in self.runs)

    @property
    def result(self) -> str:
        """One word: ok, FAILED, FLAKY, ERROR, INTERRUPTED, not run."""
        if self.interrupted:
            return "INTERRUPTED"
        if not self.runs:
            return "not run"
        if self.flaky:
            return "FLAKY"
        if any(r.error is not None for r in self.runs):
            return "ERROR"
        return "ok" if self.ok else "FAILED"

    @property
    def last(self) -> CaseRun | None:
        return self.runs[-1] if self.runs else None

    @property
    def seconds(self) -> float:
        return sum(r.seconds for r in self.runs)

    def verdicts(self) -> str:
        """`REPRODUCED`, or `REPRODUCED x2, NOT REPRODUCED x1` when repeats differ."""
        return _counted(r.record.verdict.value for r in self.runs)

    def baselines(self) -> str:
        return _counted(r.baseline for r in self.runs)


def _counted(values: Any) -> str:
    counts = Counter(values)
    if len(counts) <= 1:
        return next(iter(counts), "-")
    return ", ".join(f"{value} x{n}" for value, n in counts.items())


# ---- for people --------------------------------------------------------------------------


def progress_line(case: Case, done: int, total: int, style: Style) -> str:
    """`[ 3/40] ok      ACME-4521  REPRODUCED (expected reproduces), baseline match, 1.2s`."""
    width = len(str(total))
    word = case.result
    tag = style.good(f"{word:<11}") if word == "ok" else (
        style.dim(f"{word:<11}") if word == "not run" else style.bad(f"{word:<11}"))
    head = f"[{done:>{width}}/{total}] {tag} {case.scenario_id}"
    if not case.runs:
        return f"{head}  ({case.not_run})"
    last = case.runs[-1]
    detail = f"{case.verdicts()} (expected {case.expect}), baseline {case.baselines()}"
    if last.error is not None:
        detail = last.error.lines()[0]
    return f"{head}  {detail}, {case.seconds:.1f}s"


def table(cases: list[Case], out: TextIO | None = None) -> None:
    """The summary: one row per scenario, then the details of those not as expected."""
    out = out or sys.stdout
    s = Style(out)
    headers = ["scenario", "result", "verdict", "expected", "baseline", "duration", "run"]
    rows = [[c.scenario_id, c.result, c.verdicts() if c.runs else "-", c.expect,
             c.baselines() if c.runs else "-", f"{c.seconds:.1f}s" if c.runs else "-",
             c.last.record.run_id if c.last else "-"] for c in cases]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]
    print(s.bold("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()),
          file=out)
    for row, case in zip(rows, cases, strict=True):
        cells = [cell.ljust(w) for cell, w in zip(row, widths, strict=True)]
        cells[1] = (s.good if case.ok else s.dim if not case.runs else s.bad)(cells[1])
        print("  ".join(cells).rstrip(), file=out)
    for case in cases:
        if not case.ok and case.runs:
            print(f"\n{s.bold(case.scenario_id)}: {case.result}", file=out)
            for line in failure_text(case, s).splitlines():
                print(f"  {line}", file=out)
    print(f"\n{totals(cases)}", file=out)


def totals(cases: list[Case]) -> str:
    """`40 scenarios: 38 as expected, 1 not, 1 flaky, 0 did not run`."""
    cut = [c for c in cases if c.interrupted]
    unrun = [c for c in cases if not c.runs]
    flaky = [c for c in cases if c.flaky and not c.interrupted]
    ok = sum(c.ok for c in cases)
    failed = len(cases) - ok - len(flaky) - len(cut) - len(unrun)
    text = f"{len(cases)} scenarios: {ok} as expected, {failed} not"
    if flaky:
        text += f", {len(flaky)} flaky"
    if cut:
        text += f", {len(cut)} interrupted ({', '.join(c.scenario_id for c in cut)})"
    text += f", {len(unrun)} did not run"
    if unrun:
        text += f" ({', '.join(c.scenario_id for c in unrun)})"
    return text


def failure_text(case: Case, s: Style | None = None) -> str:
    """Why a scenario is not as expected: the error, the oracle, the baseline's diff; for a
    flaky one, what varied and the rule that would fix it."""
    s = s or Style(io.StringIO())
    lines: list[str] = []
    if case.flaky:
        lines.append(f"verdicts: {case.verdicts()}; baseline: {case.baselines()}")
        for variation in case.varied:
            rule = variation.rule if variation.fixable else "no rule can fix it: the output " \
                "itself differs"
            lines.append(f"varied: {variation.channel} at {variation.where}: "
                         f"{variation.first!r} vs {variation.second!r}; rule: {rule}")
        if not case.varied:
            lines.append("no channel varied: the oracle's own conditions did")
    last = next((r for r in reversed(case.runs) if not r.ok), case.last)
    if last is None:
        return case.not_run or ""
    if last.error is not None:
        lines.append(f"error: {last.error.lines()[0]}")
    data = last.record.to_dict()
    oracle = data["oracle"]
    if oracle["conditions"] and last.record.reproduced is not None:
        lines.append(f"{last.record.verdict.value} (expected: {case.expect}); "
                     f"oracle ({oracle['mode']} of):")
        for cond in oracle["conditions"]:
            mark = "fired" if cond["fired"] else "quiet"
            lines.append(f"  {mark} {cond['condition']}  -> {cond['observed']}")
    if last.comparison is not None and last.comparison.diverged:
        lines.append(f"baseline: DIVERGED in {', '.join(last.comparison.diverged)}")
        lines += comparison_lines(last.comparison, s)
    lines.append(f"record: {display_path(last.record.path)}")
    return "\n".join(lines)


def flaky_lines(cases: list[Case]) -> list[str]:
    """For --repeat: the flaky scenarios and the rules that would fix each."""
    from repro.compare.determinism import proposed_rules

    out = []
    for case in (c for c in cases if c.flaky):
        channels = sorted({v.channel for v in case.varied})
        out.append(f"{case.scenario_id}: {case.verdicts()}; baseline {case.baselines()}; "
                   f"varied: {', '.join(channels) or 'no channel (the oracle did)'}")
        for rule in proposed_rules(case.varied):
            out.append(f"  normalize: {rule}")
    return out


# ---- for machines ------------------------------------------------------------------------


def case_json(case: Case) -> dict[str, Any]:
    """One scenario of `repro replay --json`: its last run as `repro run --json` prints it,
    plus the replay's view (result, duration, repeats and what varied)."""
    last = case.last
    base: dict[str, Any] = run_json(last.record, last.comparison) if last else {
        "scenario": case.scenario_id, "run_id": None, "status": "not run", "reproduced": None,
        "expected": case.expect, "ok": False, "verdict": None, "record": None,
        "error": None, "baseline": None, "diverged": []}
    if last is not None and last.error is not None:
        base["error"] = last.error.lines()[0]
    return {**base, "title": case.title, "result": case.result, "as_expected": case.ok,
            "duration_s": round(case.seconds, 3), "not_run": case.not_run,
            "runs": [{"run_id": r.record.run_id, "verdict": r.record.verdict.value,
                      "baseline": r.baseline, "ok": r.ok,
                      "duration_s": round(r.seconds, 3)} for r in case.runs],
            "flaky": case.flaky,
            "varied": [{"channel": v.channel, "where": v.where, "first": v.first,
                        "second": v.second, "rule": v.rule if v.fixable else None}
                       for v in case.varied]}


class Progress:
    """The replay as it goes, on stderr: a line per scenario as it ends; on a terminal
    also a last line saying what runs now, redrawn in place (plain lines elsewhere)."""

    def __init__(self, total: int, out: TextIO | None = None, quiet: bool = False):
        out = out or sys.stderr  # looked up now: a test (or a pipe) may have replaced it
        self.total, self.done, self.out = total, 0, out
        self.style = Style(out)
        self.live = out.isatty()
        self.quiet = quiet  # --quiet: the table and errors only
        self._shown = False

    def _clear(self) -> None:
        if self._shown:
            self.out.write("\r\033[K")
            self._shown = False

    def note(self, message: str) -> None:
        if self.quiet:
            return
        self._clear()
        print(f"repro: {message}", file=self.out, flush=True)

    def ended(self, case: Case) -> None:
        self.done += 1
        if self.quiet:
            return
        self._clear()
        print(progress_line(case, self.done, self.total, self.style), file=self.out,
              flush=True)

    def running(self, ids: list[str]) -> None:
        if not self.live or not ids or self.quiet:
            return
        self._clear()
        text = f"{self.done}/{self.total} done; running: {', '.join(ids)}"
        self.out.write(self.style.dim(text[:150]))
        self.out.flush()
        self._shown = True

    def close(self) -> None:
        self._clear()
        self.out.flush()
