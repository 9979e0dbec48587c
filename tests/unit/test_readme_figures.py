"""The README's reliability figures are the suite's own: counted here from the test
modules, so a case added without updating the README (or the reverse) fails."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from .cli import test_malformed_corpus, test_malformed_inputs

ROOT = Path(__file__).resolve().parents[2]
INTEGRATION = ROOT / "tests" / "integration"


def _literal(module: Path, name: str) -> object:
    """A module-level literal of an integration module (they need an engine to import)."""
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name
                                                for t in node.targets):
            return ast.literal_eval(node.value) if not isinstance(node.value, ast.List) \
                else [ast.unparse(e) for e in node.value.elts]
    raise AssertionError(f"{name} not found in {module.name}")


def _encodings() -> int:
    tree = ast.parse((INTEGRATION / "test_secrets.py").read_text())
    forms = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)
                 and n.name == "_forms")
    (returned,) = [n.value for n in ast.walk(forms) if isinstance(n, ast.Return)]
    assert isinstance(returned, ast.Dict)
    return len(returned.keys)


def _readme_figure(pattern: str) -> tuple[int, ...]:
    text = (ROOT / "README.md").read_text()
    guarantees = text[text.index("## Guarantees"):]
    match = re.search(pattern, re.sub(r"\s+", " ", guarantees))
    assert match, f"the README's guarantees do not say {pattern!r}"
    return tuple(int(g.replace(",", "")) for g in match.groups())


def test_the_readme_states_the_suites_figures():
    inputs = len(test_malformed_corpus.CORPUS) + len(test_malformed_inputs.CORPUS)
    phases = _literal(INTEGRATION / "test_interrupts.py", "PHASES")
    signals = _literal(INTEGRATION / "test_interrupts.py", "SIGNALS")
    channels = _literal(INTEGRATION / "test_secrets.py", "CHANNELS")
    assert isinstance(phases, list) and isinstance(signals, list)
    assert isinstance(channels, tuple)
    assert _readme_figure(r"([\d,]+) malformed inputs") == (inputs,)
    assert _readme_figure(r"([\d,]+) interrupts \((\d+) phases × (\d+) signals") == (
        len(phases) * len(signals), len(phases), len(signals))
    assert _readme_figure(r"planted in (\d+) channels and (\d+) encodings") == (
        len(channels), _encodings())


# The README's speed figures, each the median the bench results file states for a ratio.
SPEED = [("RESULTS.md", "repro / `docker run --rm`", "{}x a `docker run --rm`"),
         ("REPLAY_RESULTS.md", "jobs 4 / docker run loop", "{}x a loop of `docker run --rm`"),
         ("REPLAY_RESULTS.md", "jobs 4 / docker run, 4 at a time", "{}x the same loop four"),
         ("REPLAY_RESULTS.md", "jobs 4 vs jobs 1", "{}x faster than `--jobs 1`")]


def _median(results: str, ratio: str) -> str:
    """The median column of the ratio's row in a results file's table of runs."""
    text = (ROOT / "bench" / results).read_text()
    row = next((line for line in text.splitlines() if line.startswith(f"| {ratio} |")), None)
    assert row, f"bench/{results} has no median row for {ratio!r}"
    found = re.search(r"\*\*(\d+\.\d+)x\*\*", row)
    assert found, f"bench/{results}: no **median** in {row!r}"
    return found.group(1)


def test_the_readme_states_the_benchmarks_medians():
    text = re.sub(r"\s+", " ", (ROOT / "README.md").read_text())
    for results, ratio, phrase in SPEED:
        expected = phrase.format(_median(results, ratio))
        assert expected in text, f"the README should say {expected!r} (bench/{results})"
