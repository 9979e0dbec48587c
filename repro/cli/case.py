"""`repro pack` and `repro unpack`: a scenario as one portable, checked file."""

from __future__ import annotations

from pathlib import Path

import typer

from repro.cli.app import app
from repro.cli.common import ScenarioArg, handled, say, shown
from repro.errors import EXIT_OK


@app.command()
@handled
def pack(scenario: Path = ScenarioArg,
         output: Path = typer.Option(..., "--output", "-o", metavar="CASE.tar.gz",
                                     help="The case file to write."),
         with_images: bool = typer.Option(False, "--with-images", help="Carry the images a "
                                          "run needs (built now if need be): the case runs "
                                          "where no registry and no Debian mirror is "
                                          "reachable.")) -> int:
    """Write a scenario, its environment, build context, baseline and data as one file."""
    from repro import pipeline
    from repro.case.pack import shown as packed_shown
    from repro.errors import ConfigError

    if not output.name.endswith((".tar.gz", ".tgz")):
        raise ConfigError(f"-o {output}: a case is a .tar.gz file; name it e.g. "
                          f"{output.name.split('.')[0] or 'case'}.tar.gz")
    print(packed_shown(pipeline.pack_case(scenario, output, with_images, say)))
    return EXIT_OK


@app.command()
@handled
def unpack(case: Path = typer.Argument(..., help="A case file written by `repro pack`."),
           output: Path | None = typer.Option(None, "--output", "-o", metavar="DIR",  # noqa: UP007
                                              help="Folder to unpack into (new or empty; "
                                              "default: the case's name here).")) -> int:
    """Check a case against its manifest and unpack it as a project folder."""
    from repro import pipeline

    dest = output or Path(case.name.removesuffix(".tar.gz").removesuffix(".tgz"))
    unpacked = pipeline.unpack_case(case, dest)
    print(f"unpacked {shown(case)} into {shown(unpacked.folder)}: scenario "
          f"{unpacked.manifest.scenario_id} at {shown(unpacked.scenario)}"
          + (f"; {len(unpacked.manifest.images)} image tar(s) in "
             f"{shown(unpacked.folder / 'images')} (`docker load -i`)"
             if unpacked.manifest.images else ""))
    return EXIT_OK
