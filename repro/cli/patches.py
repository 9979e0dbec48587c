"""`repro verify-fix` and `repro bisect`: the proofs a patch comes with."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import ParamOpt, ScenarioArg, handled, say, step_progress
from repro.errors import EXIT_NOT_AS_EXPECTED, EXIT_OK


@app.command("verify-fix")
@handled
def verify_fix(scenario: Path = ScenarioArg,
               before: list[str] = typer.Option([], "--before", metavar="KEY=VALUE",
                                                help="A parameter of the run before the fix "
                                                "(repeatable), e.g. version=1.4.2"),
               after: list[str] = typer.Option([], "--after", metavar="KEY=VALUE",
                                               help="A parameter of the run after the fix "
                                               "(repeatable), e.g. version=1.4.3"),
               param: list[str] = ParamOpt,
               as_json: bool = typer.Option(False, "--json", help="Print one JSON object "
                                            "instead of Markdown.")) -> int:
    """Prove a fix: the error reproduces before, not after, and after matches the baseline.

    SCENARIO may be a case packed by `repro pack`. Prints a Markdown summary to paste into
    the pull request; exits 0 only if all hold."""
    from repro import patches
    from repro.report.patches import fix_json, fix_markdown

    proof = patches.verify_fix(scenario, before, after, param, say,
                               on_step=None if as_json else step_progress)
    if as_json:
        print(json.dumps(fix_json(proof), indent=2, default=str))
    else:
        print(fix_markdown(proof), end="")
    for side in (proof.before, proof.after):
        if side.error is not None:  # no verdict is not "does not hold": the error's code
            say(f"error: the {side.name} run did not complete: {side.error}")
            return side.exit_code
    return EXIT_OK if proof.holds else EXIT_NOT_AS_EXPECTED


@app.command()
@handled
def bisect(scenario: Path = ScenarioArg,
           parameter: str = typer.Option(..., "--param", metavar="NAME",
                                         help="The parameter to vary, e.g. version"),
           values: str | None = typer.Option(None, "--values", metavar="A,B,C",
                                             help="Its values, in order (oldest first)"),
           values_from: Path | None = typer.Option(None, "--values-from", metavar="FILE",
                                                   help="A file with one value a line"),
           fixed: list[str] = typer.Option([], "--set", metavar="KEY=VALUE",
                                           help="Another parameter, the same in every run "
                                           "(repeatable)"),
           as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")
           ) -> int:
    """Find the first value of a parameter at which the verdict changes, like git bisect.

    Runs both ends, then halves the range: about log2(n) runs. A value whose run errors
    is skipped and the search goes on around it. SCENARIO may be a case packed by
    `repro pack`."""
    from repro import patches
    from repro.report.patches import bisect_json, bisect_text, probe_line

    tried = patches.read_values(values, values_from)
    result = patches.bisect(scenario, parameter, tried, fixed, say,
                            on_probe=lambda p: say(probe_line(p)))
    if as_json:
        print(json.dumps(bisect_json(result), indent=2))
    else:
        print(bisect_text(result), end="")
    return EXIT_OK if result.boundary is not None else EXIT_NOT_AS_EXPECTED
