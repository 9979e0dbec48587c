"""The pytest plugin is loaded by every pytest run of an environment that has repro: it
must cost nothing and collect nothing there unless pointed at scenarios."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_loading_the_plugin_imports_nothing_of_repro_nor_its_dependencies() -> None:
    code = ("import sys, repro.pytest_plugin; print(' '.join(sorted(m for m in sys.modules "
            "if m.split('.')[0] in ('repro', 'docker', 'yaml', 'jinja2', 'deepdiff'))))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=REPO, check=True)
    assert done.stdout.split() == ["repro", "repro.pytest_plugin"]


def test_the_entry_point_names_the_plugin_module() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert project["project"]["entry-points"]["pytest11"] == {"repro": "repro.pytest_plugin"}


def test_repros_own_suite_walks_no_scenario_files() -> None:
    """`python -m pytest` here runs tests/ only: the demo scenarios are not collected
    (they run with `pytest scenarios/`)."""
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]
    assert options["ini_options"]["testpaths"] == ["tests"]
    assert list((REPO / "tests").rglob("scenario.yaml")) == []
