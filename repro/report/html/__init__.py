"""`repro report`: a run as one self-contained HTML page, and an index page of many runs
(a replay's). Reads run records and their folders; runs nothing."""

from __future__ import annotations

import os
from pathlib import Path

from repro.report.html import sources
from repro.report.html.model import page
from repro.report.html.render import render

PAGE = "report.html"  # a run's page, beside its record


def run_html(folder: Path) -> str:
    """The page of the run whose record.json is in `folder`."""
    data = sources.load(folder)
    return render("page.html.j2", p=page(data, folder.resolve()), d=data)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return path


def write_run(folder: Path, out: Path | None = None) -> Path:
    """Write the run's page (default: report.html in the run folder); its path."""
    return _write(out or folder / PAGE, run_html(folder))


def write_index(found: sources.Found, out: Path) -> Path:
    """Each run's page beside its record, and the index linking them at `out`."""
    rows = []
    for entry in found.entries:
        row = entry.row()
        if entry.folder is not None:
            target = write_run(entry.folder)
            row["href"] = Path(os.path.relpath(target.resolve(), out.resolve().parent)
                               ).as_posix()
        rows.append(row)
    failed = sum(r["outcome"] != "as expected" for r in rows)
    return _write(out, render("index.html.j2", title=f"repro: {len(rows)} run(s)",
                              runs=rows, failed=failed, source=found.source))
