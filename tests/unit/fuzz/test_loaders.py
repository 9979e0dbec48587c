"""Any input either loads or is refused with ConfigError lines that all name the file:
never another exception, never a hang (each example has a deadline, see conftest.py).

Inputs are drawn two ways: arbitrary bytes or text, and documents that look like the
real thing (known keys, plausible values) with a few characters mutated, which reach
the deeper checks that random text never gets past the parser to.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from repro.config import units
from repro.config.model import Environment, ParameterFile, Scenario
from repro.config.parameters import read_parameter_file
from repro.config.project import load_environment, load_scenario
from repro.config.schema import Invalid
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem

FOLDER = Path(tempfile.mkdtemp(prefix="repro-fuzz-"))


def _keys(record: type) -> list[str]:
    """The keys of a record (for documents that look real)."""
    return [f.metadata.get("alias") or f.name for f in dataclasses.fields(record)]


KEYS = sorted(set(_keys(Scenario) + _keys(Environment) + [
    "run", "name", "timeout", "any", "all", "step", "exit_code", "stdout", "ref", "build",
    "context", "default", "secret", "choices", "path", "content", "template", "mode",
    "memory", "cpus", "pids", "count", "at", "from", "to", "stop", "service", "tcp"]))
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-10**20, 10**20),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["30s", "1m30s", "9999999h", "0", "-1", "512m", "0644", "{{ x }}",
                     "{{ port }}", "{% if %}", "2024-02-30", "*a", "&a", "!!int x", "~",
                     "repro-base/busybox", "UPPER::x", "/etc/passwd", "../x", "e"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), inner, max_size=5)),
    max_leaves=25)
DOCUMENTS = st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=8)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """`text` with a few characters inserted, deleted or replaced."""
    chars = list(text)
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(chars)))
        what = draw(st.sampled_from(["insert", "delete", "replace"]))
        char = draw(st.sampled_from(list(":-[]{}&*!|>'\"#\n\t \x00\ufeff%@`,?")) | st.characters())
        if what == "insert":
            chars.insert(at, char)
        elif chars and at < len(chars):
            chars[at:at + 1] = [] if what == "delete" else [char]
    return "".join(chars)


@st.composite
def yaml_like(draw: st.DrawFn) -> bytes:
    doc = draw(DOCUMENTS)
    text = yaml.safe_dump(doc, default_flow_style=draw(st.booleans()), allow_unicode=True)
    return draw(mutated(text)).encode("utf-8", "surrogatepass")


FILES = st.one_of(st.binary(max_size=300), yaml_like(),
                  st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")))


def _refused_with_the_file_named(exc: ConfigError, path: Path) -> None:
    shown = display_path(path)
    for problem in exc.problems:
        assert isinstance(problem, Problem), problem
        assert problem.file == shown, (problem, shown)
    assert exc.lines() and all(line.startswith(shown) for line in exc.lines())


@pytest.mark.parametrize("load", [load_scenario, load_environment], ids=["scenario",
                                                                          "environment"])
@given(content=FILES)
def test_a_scenario_or_environment_file_loads_or_is_refused_by_name(load, content: bytes):
    path = FOLDER / "doc.yaml"
    path.write_bytes(content)
    try:
        load(path)
    except ConfigError as exc:
        _refused_with_the_file_named(exc, path)


def _export(draw: st.DrawFn, fmt: str) -> str:
    flat = draw(st.dictionaries(st.text(max_size=10), SCALARS | VALUES, max_size=6))
    if fmt == "json":
        text = json.dumps(flat, default=str)
    elif fmt == "yaml":
        text = yaml.safe_dump(flat, allow_unicode=True)
    elif fmt == "ini":
        text = "[app]\n" + "".join(f"{k} = {v}\n" for k, v in flat.items())
    else:
        text = "".join(f"{k}={v}\n" for k, v in flat.items())
    return draw(mutated(text))


@st.composite
def exports(draw: st.DrawFn) -> tuple[str, bytes, str | None]:
    fmt = draw(st.sampled_from(["yaml", "json", "ini", "env"]))
    body = draw(st.one_of(st.binary(max_size=200),
                          st.builds(lambda s: s.encode("utf-8", "surrogatepass"),
                                    st.just(_export(draw, fmt)))))
    section = draw(st.none() | st.sampled_from(["app", "other", ""]))
    return fmt, body, section or None


@given(export=exports())
def test_a_parameter_export_loads_or_is_refused_by_name(export):
    fmt, body, section = export
    path = FOLDER / f"export.{fmt}"
    path.write_bytes(body)
    try:
        values, shown, _ = read_parameter_file(ParameterFile(path.name, fmt, section), FOLDER)
    except ConfigError as exc:
        _refused_with_the_file_named(exc, path)
        return
    assert shown == display_path(path)
    assert all(isinstance(v, (str, int, float, bool)) for v in values.values())


ANY_VALUE = st.one_of(SCALARS, st.from_regex(r"\s*\d{1,30}(\.\d{1,5})?\s*(ms|s|m|h|d|w|k|"
                                             r"m|g|kb|mib|gb|b)?\s*", fullmatch=True),
                      st.lists(st.integers(), max_size=2))


@given(raw=ANY_VALUE)
def test_a_duration_is_a_bounded_number_of_seconds_or_invalid(raw):
    try:
        seconds = units.duration(raw)
    except Invalid:
        return
    assert 0 < seconds <= units.MAX_DURATION


@pytest.mark.parametrize("parse", [units.memory, units.size, units.file_mode, units.regex])
@given(raw=ANY_VALUE)
def test_a_size_mode_or_pattern_parses_or_is_invalid(parse, raw):
    try:
        value = parse(raw)
    except Invalid:
        return
    assert isinstance(value, (int, str))
