"""`repro report`: a run (or a replay's runs) as a self-contained HTML page."""

from __future__ import annotations

from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import handled, shown

INDEX = "report.html"


@app.command()
@handled
def report(targets: list[str] = typer.Argument(
               ..., metavar="RUN...",
               help="A run id, run folder or record.json; several runs; or a replay's "
               "--json output or --junit XML."),
           output: Path | None = typer.Option(
               None, "--output", "-o", metavar="FILE.html",
               help="Where to write the page (default: report.html in the run folder; for "
               "many runs, an index beside the summary or in the current folder).")) -> int:
    """Write a self-contained HTML page of a run (verdict, timeline, oracle, baseline
    diffs, captured files), or an index page linking the pages of many runs."""
    from repro.config.project import project_root
    from repro.report import html
    from repro.report.html import sources
    from repro.results import reader

    cwd = Path.cwd()
    root = project_root(cwd)
    if len(targets) == 1 and not sources.is_summary(targets[0]):
        run = reader.find(targets[0], root)
        print(shown(html.write_run(run.folder, output)))
        return 0
    if len(targets) == 1:
        found = sources.summary(targets[0], cwd, root)
        default = Path(targets[0]).with_suffix(".html")
    else:
        found = sources.runs(targets, root)
        default = cwd / INDEX
    print(shown(html.write_index(found, output or default)))
    return 0
