"""pytest plugin (entry point `pytest11`): every `scenario.yaml` pytest walks over is a test,
and the `repro_run` fixture lets a project's own tests run a scenario.

`pytest scenarios/` replays each scenario in its own sandbox; an item passes when the run
is as expected (`repro run` would exit 0: the verdict `expect:` asks for, and for a fixed
scenario its baseline matched). A failure shows the run's summary (steps, oracle, the
diff with the baseline), never a traceback of repro. `-n` (xdist), `-k`, `-m TAG` (a
scenario's `tags:` are markers) and `--junitxml` work as for any test.

Loading this module costs nothing but pytest's own import: repro is imported only when a
`scenario.yaml` is collected or the fixture is used, so a project's test suite that never
walks into `scenarios/` (pytest's `testpaths`) neither slows down nor changes.
"""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from repro.pipeline import RunOutcome

SCENARIO_FILE = "scenario.yaml"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("repro", "repro scenarios")
    group.addoption("--repro-param", action="append", default=[], metavar="KEY=VALUE",
                    help="Override a parameter of every collected scenario (repeatable).")
    parser.addini("repro_scenarios", type="bool", default=True,
                  help="Collect scenario.yaml files as tests (default: true).")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if file_path.name != SCENARIO_FILE or not parent.config.getini("repro_scenarios"):
        return None
    return ScenarioFile.from_parent(parent, path=file_path)


class ScenarioFile(pytest.File):
    """A scenario.yaml: one test item, named by the scenario's id."""

    def collect(self) -> Iterator[pytest.Item]:
        from repro.config.project import load_scenario
        from repro.errors import ReproError

        try:
            loaded = load_scenario(self.path)
        except ReproError as exc:  # reported as the item's failure, in one line
            yield ScenarioItem.from_parent(self, name=self.path.parent.name,
                                           problem="\n".join(exc.lines()))
            return
        scenario = loaded.record
        item = ScenarioItem.from_parent(self, name=scenario.id or self.path.parent.name)
        for tag in getattr(scenario, "tags", ()):
            # Registered first: --strict-markers accepts a scenario's tags as markers.
            self.config.addinivalue_line("markers", f"{tag}: scenarios tagged {tag}")
            item.add_marker(tag)
        item.extra_keyword_matches.update(w for w in (scenario.ticket, scenario.title) if w)
        yield item


class ScenarioFailed(Exception):
    """The run was not as expected (or did not complete): the text is its summary."""


class ScenarioItem(pytest.Item):
    def __init__(self, *, problem: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.problem = problem  # the scenario does not load

    def runtest(self) -> None:
        if self.problem is not None:
            raise ScenarioFailed(self.problem)
        from repro.errors import ReproError

        params = self.config.getoption("repro_param")
        try:
            outcome = _run(self.path, params)
        except ReproError as exc:  # the plan failed: a configuration error, in one line
            raise ScenarioFailed("\n".join(exc.lines())) from None
        record = outcome.record
        self.user_properties += [("run_id", record.run_id), ("record", str(record.path)),
                                 ("verdict", record.verdict.value)]
        if outcome.error is not None:
            raise ScenarioFailed(f"{record.run_id}: the run did not complete: "
                                 + "\n".join(outcome.error.lines()))
        if not record.ok:
            raise ScenarioFailed(summary_text(outcome))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, self.name


def _say(message: str) -> None:
    print(f"repro: {message}", file=sys.stderr, flush=True)


def _run(path: Path, params: list[str]) -> RunOutcome:
    from repro import pipeline

    plan, expected = pipeline.prepare(path, params)
    return pipeline.run(plan, _say, expected)


def summary_text(outcome: RunOutcome) -> str:
    """The run as `repro run` prints it (no colours): steps, oracle, baseline diff."""
    from repro.report import terminal

    out = io.StringIO()
    terminal.summary(outcome.record, outcome.comparison, out)
    return out.getvalue().rstrip("\n")


# ---- the fixture --------------------------------------------------------------------------


@dataclass
class ScenarioRun:
    """A finished run, for a test to assert on: its record.json as data, and the gist."""

    run_id: str
    record: dict[str, Any]  # the run record (record.json), secrets masked
    record_path: Path
    reproduced: bool | None
    ok: bool | None  # as expected (what `repro run` exits 0 on)
    verdict: str  # REPRODUCED, NOT REPRODUCED or ERROR
    baseline: str  # match, diverged, none, not compared
    error: str | None  # why the run did not complete
    summary: str  # the run as `repro run` prints it

    def step(self, name: str) -> dict[str, Any]:
        """One step of the record (its status, exit_code, stdout, stderr, ...)."""
        for step in self.record["steps"]:
            if step["name"] == name:
                return dict(step)
        raise KeyError(f"no step {name!r} in run {self.run_id}")


@pytest.fixture
def repro_run(request: pytest.FixtureRequest) -> Callable[..., ScenarioRun]:
    """`repro_run("scenarios/ACME-4521", version="1.4.3")`: replay a scenario in a fresh
    sandbox (parameters override the scenario's, as `--param` does) and return its run."""
    root = Path(request.config.rootpath)

    def run(scenario: str | Path, **params: Any) -> ScenarioRun:
        import json

        from repro.errors import ReproError

        target = _find(Path(scenario), root)
        try:
            outcome = _run(target, [f"{k}={v}" for k, v in params.items()])
        except ReproError as exc:
            pytest.fail("\n".join(exc.lines()), pytrace=False)
        record = outcome.record
        data = json.loads(record.path.read_text()) if record.path.is_file() else \
            record.to_dict()
        return ScenarioRun(record.run_id, data, record.path, record.reproduced, record.ok,
                           record.verdict.value, data.get("baseline", {}).get("verdict", ""),
                           None if outcome.error is None else outcome.error.lines()[0],
                           summary_text(outcome) if outcome.error is None else "")

    return run


def _find(scenario: Path, root: Path) -> Path:
    """A path from the working directory, from pytest's rootdir, or a bare scenario id."""
    for candidate in (scenario, root / scenario, root / "scenarios" / scenario):
        if candidate.exists():
            return candidate
    return scenario  # repro says what is missing, with a "did you mean"
