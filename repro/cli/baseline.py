"""`repro baseline` and `repro diff`: record approved behaviour, compare two runs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import (
    Color,
    ColorOpt,
    ParamOpt,
    QuietOpt,
    ScenarioArg,
    VerboseOpt,
    confirm,
    handled,
    presenter,
    say,
    shown,
)
from repro.errors import EXIT_NOT_AS_EXPECTED, EXIT_OK


@app.command("baseline")
@handled
def baseline_cmd(scenario: Path = ScenarioArg,
                 param: list[str] = ParamOpt,
                 repeat: int = typer.Option(1, "--repeat", "-n", help="Replay N times and "
                                            "refuse if the observations differ."),
                 yes: bool = typer.Option(False, "--yes", "-y", help="Replace an existing "
                                          "baseline without asking."),
                 quiet: bool = QuietOpt, verbose: bool = VerboseOpt,
                 color: Color = ColorOpt) -> int:
    """Replay a scenario and store its normalised behaviour as the baseline next to it."""
    from repro import pipeline
    from repro.compare.determinism import proposed_rules
    from repro.config.parameters import parse_cli_params
    from repro.config.yaml_dump import dump
    from repro.plan.build import plan_scenario
    from repro.report import terminal

    plan = plan_scenario(scenario, parse_cli_params(param))
    with presenter(quiet, verbose, color) as progress:
        recording = pipeline.replay_for_baseline(plan, progress.say, repeat,
                                                 progress=progress.emit)
    style = terminal.Style(sys.stdout)
    if recording.varied:
        print(style.bad(f"not deterministic: {len(recording.varied)} difference(s) between "
                        f"{repeat} runs; nothing recorded"))
        for v in recording.varied:
            print(f"  {style.bold(v.channel)} {v.where}:\n    run 1: {v.first[:160]}\n"
                  f"    later: {v.second[:160]}")
        rules = proposed_rules(recording.varied)
        if rules:
            print("\nadd to `normalize:` in the scenario (or the environment) and re-run:")
            print("    " + dump({"normalize": rules}).replace("\n", "\n    "))
        if any(not v.fixable for v in recording.varied):
            print("some differences no rule can remove (a line or file only one run has, "
                  "an exit code, a different number of fields): the behaviour itself "
                  "varies; make the steps deterministic first")
        return EXIT_NOT_AS_EXPECTED
    proposal = pipeline.propose_baseline(plan, recording)
    if proposal.unreadable:
        say(f"replacing an unreadable baseline ({proposal.unreadable})")
    if proposal.kind == pipeline.Proposal.UNCHANGED:
        print(f"baseline unchanged: {shown(proposal.target)} already holds this behaviour")
        return EXIT_OK
    if proposal.kind == pipeline.Proposal.REPLACE:
        assert proposal.change is not None
        print(f"re-recording changes {len(proposal.change.diverged)} channel(s):")
        for line in terminal.comparison_lines(proposal.change, style):
            print(line)
        if not yes and not confirm("replace the baseline?"):
            print(f"{shown(proposal.target)} kept as it was; re-run with --yes to replace it")
            return EXIT_NOT_AS_EXPECTED
    written = pipeline.store_baseline(plan, recording)
    print(f"baseline recorded: {shown(written)} ({len(recording.observations[0])} channels, "
          f"run {recording.runs[0].run_id})")
    return EXIT_OK


@app.command()
@handled
def diff(first: str = typer.Argument(..., help="Run id, run folder or record.json"),
         second: str = typer.Argument(..., help="Run id, run folder or record.json"),
         as_json: bool = typer.Option(False, "--json", help="The structured diff as JSON.")
         ) -> int:
    """Compare two runs channel by channel with the scenario's rulebook (exit 1 if different)."""
    from repro import pipeline
    from repro.report import terminal
    from repro.results.outcome import ChannelVerdict

    comparison, notes = pipeline.diff_runs(first, second)
    for note in notes:
        say(note)
    if as_json:
        print(json.dumps(comparison.to_dict(), indent=2, default=str))
    else:
        style = terminal.Style(sys.stdout)
        if comparison.verdict == ChannelVerdict.MATCH:
            print(f"{style.good('match')}: {len(comparison.channels)} channels equal")
        else:
            print(f"{style.bad('diverged')} in {', '.join(comparison.diverged)}")
            for line in terminal.comparison_lines(comparison, style):
                print(line)
    return EXIT_OK if comparison.verdict == ChannelVerdict.MATCH else EXIT_NOT_AS_EXPECTED
