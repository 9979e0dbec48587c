"""Show a run and comparisons to people on a terminal (colours only on a tty)."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

from repro.config.yaml_source import display_path
from repro.plan.timeline import timeline_shown
from repro.report import faults
from repro.report.captures import capture_lines
from repro.report.controls import escaped
from repro.report.matched import matched_lines, patterns
from repro.report.oneline import one_line
from repro.report.timeline import timeline_lines, when_line
from repro.results.outcome import ChannelVerdict, StepStatus
from repro.results.record import RunRecord

if TYPE_CHECKING:
    from repro.compare.diff import Comparison

TAIL_LINES = 6


_forced: bool | None = None  # `--color always|never`, for every Style of the process


def force_colour(on: bool | None) -> None:
    """Colours on or off whatever the stream is (None: decide per stream again)."""
    global _forced
    _forced = on


class Style:
    """ANSI colours on a terminal; plain text in pipes, files, CI logs and with NO_COLOR
    (`--color` decides instead when given, or `on`)."""

    def __init__(self, stream: TextIO, on: bool | None = None):
        if on is None:
            on = _forced
        self.on = on if on is not None else stream.isatty() and \
            not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    def _wrap(self, code: str, text: str) -> str:
        return f"\033[{code}m{text}\033[0m" if self.on else text

    def good(self, text: str) -> str:
        return self._wrap("32", text)

    def bad(self, text: str) -> str:
        return self._wrap("31;1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bold(self, text: str) -> str:
        return self._wrap("1", text)


def _tail(text: str, lines: int = TAIL_LINES) -> list[str]:
    """The last lines, with control characters shown, never sent to the terminal."""
    rows = text.rstrip("\n").splitlines()
    cut = rows[-lines:]
    if len(rows) > lines:
        cut.insert(0, f"... {len(rows) - lines} earlier lines in the record")
    return [printable(row)[:200] for row in cut]


def printable(text: str) -> str:
    """Control characters shown (`\\x1b`), never sent to the terminal. Tabs and line
    breaks stay (lines are split on them); a carriage return, which would write over the
    line on a terminal, is shown."""
    return escaped(text, keep="\t\n")


def _looks_binary(text: str) -> bool:
    return "\x00" in text or text.count("\ufffd") > max(8, len(text) // 100)


def summary(record: RunRecord, comparison: Comparison | None,
            out: TextIO | None = None) -> None:
    out = out or sys.stdout  # looked up now, not when this module was imported
    s = Style(out)
    data = record.to_dict()
    plan = record.plan
    title = f"  {plan.title}" if plan.title else ""
    ticket = f"  (ticket {plan.ticket})" if plan.ticket else ""
    print(s.bold(plan.scenario_id) + title + ticket, file=out)
    image = data["image"]
    how = "built" if image.get("built") else "cached"
    print(s.dim(f"environment {plan.environment}, image {image.get('ref')} ({how}), "
                f"run {record.run_id}"), file=out)
    if record.clock is not None:
        from repro.report.clock import clock_line

        print(s.dim(clock_line(record.clock)), file=out)
    print(file=out)
    width = faults.width_of(record, data["steps"])
    fault_lines = faults.lines_before_steps(record, width, s)
    for step in data["steps"]:
        for line in fault_lines.pop(step["name"], []):
            print(line, file=out)
        status = step["status"]
        tag = {StepStatus.OK: s.good("ok     "), StepStatus.FAILED: s.bad("FAILED "),
               StepStatus.TIMED_OUT: s.bad("TIMEOUT"), StepStatus.SKIPPED: s.dim("skipped"),
               StepStatus.INTERRUPTED: s.bad("STOPPED"),
               StepStatus.OOM_KILLED: s.bad("OOM    "),
               StepStatus.STOPPED: s.dim("stopped")}[StepStatus(status)]
        timing = "" if step["duration_s"] is None else f"{step['duration_s']:.2f}s"
        code = "" if step["exit_code"] is None else f"exit {step['exit_code']}"
        if status == StepStatus.STOPPED:
            code = "by repro"  # its exit code is the signal's, not a verdict
        if step.get("instances") is not None:  # a repeated step: one line for them all
            print(f"  {tag} {step['name']:<{width}}  {repeat_summary(step)}  {timing}",
                  file=out)
            continue
        print(f"  {tag} {step['name']:<{width}}  {code:<8} {timing}", file=out)
        if status == StepStatus.SKIPPED:
            continue
        for stream in ("stdout", "stderr"):
            text = step[stream]
            tail = TAIL_LINES
            if text is None or _looks_binary(text):
                kind = "binary, " if text is not None else ""
                text = f"({step[stream + '_bytes']} bytes, {kind}in {step[stream + '_file']})"
                tail = 0  # none of the output itself is shown
            for line in _tail(text):
                print(s.dim(f"      {stream[3:]}| ") + line, file=out)
            for line in _matched(record, step["name"], stream, tail):
                print(s.dim(f"    match| {stream[3:]} ") + line, file=out)
        if step["exit_code"] == 137 and status == StepStatus.FAILED and record.plan.limits.memory:
            mib = record.plan.limits.memory // 1024**2
            print(s.dim(f"      killed (SIGKILL): the memory limit ({mib} MiB, "
                        "limits.memory) is the usual cause"), file=out)
        if status == StepStatus.OOM_KILLED:
            limit = record.plan.limits.memory
            within = f" within limits.memory ({limit // 1024**2} MiB)" if limit else ""
            print(s.dim(f"      killed by the kernel: out of memory{within}"), file=out)
    for line in (line for lines in fault_lines.values() for line in lines):
        print(line, file=out)  # faults after the last step, or before a step never reached
    for line in capture_lines(data["captures"], record.directory):
        print(line, file=out)
    print(file=out)
    if timeline_shown(plan.timeline) is not None:
        print("timeline (offsets from the start of the steps):", file=out)
        for line in timeline_lines(data):
            print(s.dim(line) if " ready (" in line else line, file=out)
        print(file=out)
    oracle = data["oracle"]
    print(f"oracle ({oracle['mode']} of):", file=out)
    for line in condition_lines(oracle["conditions"], s):
        print(line, file=out)
    when = when_line(data)
    if when is not None:
        print(f"  {s.bold('when')}: {when}", file=out)
    _baseline_section(record, comparison, s, out)
    word = record.verdict.value
    outcome = s.good("as expected") if record.ok else s.bad("NOT as expected")
    print(f"\n{s.bold(word)}  (expected: {plan.expect}) -> {outcome}", file=out)
    print(s.dim(f"record: {display_path(record.path)}"), file=out)
    if record.kept:
        print(f"sandbox kept: enter it with `{record.enter_hint}`; remove it with "
              f"`repro gc --run {record.run_id}`", file=out)


def _matched(record: RunRecord, step: str, stream: str, tail: int) -> list[str]:
    """The lines the oracle's conditions on this step matched that the tail hides."""
    regexes = patterns(record.plan.oracle, step, stream)
    observed = next((o for o in record.steps if o.name == step), None)
    if not regexes or observed is None or observed.instances is not None:
        return []
    return matched_lines(observed.text(stream), regexes, tail)


def condition_lines(conditions: list[dict], s: Style, depth: int = 1) -> list[str]:
    """Each condition with what was observed; a group's (or a `not`'s) indented below."""
    out = []
    for cond in conditions:
        mark = s.bad("fired") if cond["fired"] else s.dim("quiet")
        if depth > 1:  # inside a group: whether it held, not whether the oracle fired
            mark = "held " if cond["fired"] else s.dim("no   ")
        out.append(f"{'  ' * depth}{mark} {one_line(cond['condition'], 400)}  "
                   f"{s.dim('-> ' + one_line(cond['observed']))}")
        out += condition_lines(cond.get("conditions") or [], s, depth + 1)
    return out


def repeat_summary(step: dict) -> str:
    """`x40 (20 at once): exit 0 x1, exit 3 x39`."""
    repeat = step.get("repeat") or {}
    counts = ", ".join(f"{k} x{n}" for k, n in (step.get("exit_codes") or {}).items())
    return (f"x{repeat.get('count', len(step['instances']))} "
            f"({repeat.get('concurrency', '?')} at once): {counts or 'none ran'}")


def _baseline_section(record: RunRecord, comparison: Comparison | None, s: Style,
                      out: TextIO) -> None:
    if comparison is None:
        folder = display_path(record.plan.scenario_path.parent)
        hint = f"record one with `repro baseline {folder}`"
        if record.case is not None:  # its folder was a temporary one, gone by now
            hint = "the case holds none: record one in its project, then pack it again"
        print(s.dim(f"\nbaseline: none ({hint})"), file=out)
        return
    if comparison.verdict == ChannelVerdict.MATCH:
        print(f"\nbaseline: {s.good('match')} ({len(comparison.channels)} channels)", file=out)
        return
    print(f"\nbaseline: {s.bad('DIVERGED')} in {', '.join(comparison.diverged)}", file=out)
    for line in comparison_lines(comparison, s):
        print(line, file=out)


def comparison_lines(comparison: Comparison, s: Style, per_channel: int = 40) -> list[str]:
    """Diverged channels, each with its diff: red removals, green additions on a tty."""
    out = []
    for diff in comparison.channels:
        if diff.verdict != ChannelVerdict.DIVERGED:
            continue
        out.append(f"  {s.bold(diff.name)} ({diff.kind}): {diff.summary}")
        shown = diff.lines[:per_channel]
        for line in shown:
            if line.startswith(("+++", "---")):
                styled = s.dim(line)
            elif line.startswith("+"):
                styled = s.good(line)
            elif line.startswith("-"):
                styled = s.bad(line)
            elif line.startswith("@@"):
                styled = s.dim(line)
            else:
                styled = line
            out.append("    " + styled)
        if len(diff.lines) > per_channel:
            out.append(s.dim(f"    ... {len(diff.lines) - per_channel} more lines "
                             "(`--json` or the run record has them all)"))
    return out
