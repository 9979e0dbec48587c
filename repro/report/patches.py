"""Show the proofs for a patch: `repro verify-fix` (a pasteable Markdown summary for a pull
request) and `repro bisect` (the boundary pair and the runs made), as text and as JSON.

The values are built by repro.patches; here they are only read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from repro.config.yaml_source import display_path
from repro.results.outcome import ChannelVerdict, Verdict
from repro.results.record import RunRecord

if TYPE_CHECKING:
    from repro.compare.diff import Comparison

DIFF_LINES = 60  # lines of the before/after diff pasted into a pull request


# ---- verify-fix ---------------------------------------------------------------------------


@dataclass
class Side:
    """One of the two runs of `verify-fix`."""

    name: str  # before | after
    assignments: dict[str, str]  # the parameters given on the command line for this side
    record: RunRecord
    comparison: Comparison | None  # with the scenario's baseline (None: no baseline)
    error: str | None = None  # the run did not complete
    exit_code: int = 0  # the error's exit code (3: sandbox, 2: configuration)

    @property
    def verdict(self) -> Verdict:
        return self.record.verdict


@dataclass
class FixProof:
    """Fail before, pass after: the three checks and what the fix changed."""

    scenario: str
    before: Side
    after: Side
    change: Comparison | None  # before vs after (None when a run did not complete)
    has_baseline: bool

    @property
    def checks(self) -> list[tuple[str, bool]]:
        after_baseline = self.after.comparison is not None and \
            self.after.comparison.verdict == ChannelVerdict.MATCH
        return [
            ("the error reproduces before", self.before.record.reproduced is True),
            ("the error does not reproduce after", self.after.record.reproduced is False),
            ("the after run matches the baseline", after_baseline),
        ]

    @property
    def holds(self) -> bool:
        return all(ok for _, ok in self.checks)


def _assignments(side: Side) -> str:
    return ", ".join(f"{k}={v}" for k, v in side.assignments.items()) or "(as written)"


def _baseline_cell(side: Side, has_baseline: bool) -> str:
    if side.error is not None:
        return "not compared"
    if side.comparison is None:
        return "none" if not has_baseline else "not compared"
    if side.comparison.verdict == ChannelVerdict.MATCH:
        return f"match ({len(side.comparison.channels)} channels)"
    return "diverged in " + ", ".join(f"`{c}`" for c in side.comparison.diverged[:4]) + (
        ", ..." if len(side.comparison.diverged) > 4 else "")


def _why(side: Side) -> str:
    """The oracle's fired conditions, or the error: why the verdict is what it is."""
    if side.error is not None:
        return f"error: {side.error}"
    fired = [r.description for r in side.record.oracle if r.fired]
    return "; ".join(fired) if fired else "no condition of the oracle held"


def fix_markdown(proof: FixProof) -> str:
    """A short summary to paste into a pull request."""
    mark = "holds" if proof.holds else "does NOT hold"
    out = [f"### repro verify-fix {proof.scenario}: {mark}", "",
           "| run | parameters | run id | verdict | baseline |",
           "|---|---|---|---|---|"]
    for side in (proof.before, proof.after):
        out.append(f"| {side.name} | {_assignments(side)} | `{side.record.run_id}` | "
                   f"{side.verdict.value} | {_baseline_cell(side, proof.has_baseline)} |")
    out.append("")
    for text, ok in proof.checks:
        out.append(f"- [{'x' if ok else ' '}] {text}")
    out += ["", f"Before: {_why(proof.before)}.", f"After: {_why(proof.after)}."]
    if not proof.has_baseline:
        folder = display_path(proof.after.record.plan.scenario_path.parent)
        after = " ".join(f"-p {k}={v}" for k, v in proof.after.assignments.items())
        out.append(f"No baseline: record the fixed behaviour with `repro baseline {folder}"
                   + (f" {after}" if after else "") + "`.")
    diverged = proof.after.comparison is not None and proof.after.comparison.diverged
    if diverged and proof.after.comparison is not None:
        out += ["", "<details><summary>After vs the baseline</summary>", "", "```diff",
                *_diff_lines(proof.after.comparison), "```", "</details>"]
    if proof.change is not None:
        changed = proof.change.diverged
        out += ["", f"<details><summary>What the fix changed ({len(changed)} of "
                f"{len(proof.change.channels)} channels)</summary>", ""]
        if changed:
            out += ["```diff", *_diff_lines(proof.change), "```"]
        else:
            out.append("Nothing: before and after behave the same.")
        out.append("</details>")
    return "\n".join(out) + "\n"


def _diff_lines(comparison: Comparison) -> list[str]:
    out: list[str] = []
    for diff in comparison.channels:
        if diff.verdict != ChannelVerdict.DIVERGED:
            continue
        out.append(f"# {diff.name} ({diff.kind}): {diff.summary}")
        out += diff.lines
    if len(out) > DIFF_LINES:
        out = out[:DIFF_LINES] + [f"# ... {len(out) - DIFF_LINES} more lines in "
                                  "`repro diff` of the two runs"]
    return out


def _side_json(side: Side, has_baseline: bool) -> dict[str, Any]:
    return {"parameters": side.assignments, "run_id": side.record.run_id,
            "record": display_path(side.record.path), "verdict": side.verdict.value,
            "reproduced": side.record.reproduced, "error": side.error,
            "baseline": _baseline_cell(side, has_baseline).split(" ")[0],
            "diverged": side.comparison.diverged if side.comparison else []}


def fix_json(proof: FixProof) -> dict[str, Any]:
    return {"scenario": proof.scenario, "holds": proof.holds,
            "checks": [{"check": text, "holds": ok} for text, ok in proof.checks],
            "before": _side_json(proof.before, proof.has_baseline),
            "after": _side_json(proof.after, proof.has_baseline),
            "change": None if proof.change is None else proof.change.to_dict()}


# ---- bisect -------------------------------------------------------------------------------


@dataclass
class Probe:
    """One value tried by `bisect`: its run, or why it has no verdict."""

    index: int  # position in the list of values
    value: str
    record: RunRecord | None
    error: str | None = None

    @property
    def verdict(self) -> Verdict:
        return Verdict.ERROR if self.record is None or self.error is not None else \
            self.record.verdict

    @property
    def run_id(self) -> str | None:
        return None if self.record is None else self.record.run_id


@dataclass
class Bisection:
    """The values, the runs made (in order) and, when found, the pair where it changes."""

    scenario: str
    parameter: str
    values: list[str]
    probes: list[Probe] = field(default_factory=list)
    boundary: tuple[Probe, Probe] | None = None
    reason: str = ""  # why there is no boundary

    @property
    def untested_between(self) -> list[str]:
        """Values between the pair that could not be tested (their runs errored)."""
        if self.boundary is None:
            return []
        return self.values[self.boundary[0].index + 1: self.boundary[1].index]


def probe_line(probe: Probe) -> str:
    """A run of bisect in one line: the value, its verdict, its run id."""
    error = probe.error or ""
    what = probe.verdict.value if probe.error is None else \
        f"ERROR ({error if len(error) <= 100 else error[:97] + '...'})"
    run = f"  run {probe.run_id}" if probe.run_id else ""
    return f"{probe.value}: {what}{run}"


def bisect_text(result: Bisection) -> str:
    name = result.parameter
    out = [f"bisect {result.scenario} over {name}: {len(result.values)} values, "
           f"{len(result.probes)} runs"]
    for probe in sorted(result.probes, key=lambda p: p.index):
        out.append(f"  {probe_line(probe)}")
    out.append("")
    if result.boundary is None:
        out.append(f"no boundary: {result.reason}")
        return "\n".join(out) + "\n"
    last, first = result.boundary
    out.append(f"first {name} with {first.verdict.value}: {first.value}  (run {first.run_id})")
    out.append(f"last {name} with {last.verdict.value}: {last.value}  (run {last.run_id})")
    skipped = result.untested_between
    if skipped:
        out.append(f"the change is somewhere in {', '.join(skipped)} or {first.value}: "
                   f"{'that value' if len(skipped) == 1 else 'those values'} could not run "
                   "(see the errors above)")
    return "\n".join(out) + "\n"


def bisect_json(result: Bisection) -> dict[str, Any]:
    def probe(p: Probe) -> dict[str, Any]:
        return {"value": p.value, "verdict": p.verdict.value, "run_id": p.run_id,
                "record": None if p.record is None else display_path(p.record.path),
                "error": p.error}

    return {"scenario": result.scenario, "parameter": result.parameter,
            "values": result.values, "runs": [probe(p) for p in result.probes],
            "boundary": None if result.boundary is None else {
                "last": probe(result.boundary[0]), "first": probe(result.boundary[1]),
                "untested_between": result.untested_between},
            "reason": result.reason or None}
