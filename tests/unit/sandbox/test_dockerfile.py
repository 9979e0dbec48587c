"""The images a Dockerfile starts from, with build arguments resolved like `docker build`."""

from __future__ import annotations

import pytest

from repro.errors import ConfigError
from repro.sandbox.docker.dockerfile import parents


def _parents(tmp_path, text: str, **args: str) -> list[str]:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return parents(path, args)


def test_arguments_before_from_are_resolved_with_given_values_first(tmp_path):
    text = ("ARG SUITE=bookworm\nARG BASE\n"
            "FROM repro-base/debian:${SUITE} AS build\n"
            "FROM ${BASE:-repro-base/busybox}\n"
            "COPY --from=build /x /x\n"
            "FROM build\n")
    assert _parents(tmp_path, text) == ["repro-base/debian:bookworm", "repro-base/busybox"]
    assert _parents(tmp_path, text, SUITE="trixie", BASE="repro-base/debian:sid") == [
        "repro-base/debian:trixie", "repro-base/debian:sid"]


def test_a_continued_from_line_and_scratch(tmp_path):
    assert _parents(tmp_path, "FROM \\\n  repro-base/busybox\nFROM scratch\n") == [
        "repro-base/busybox"]


@pytest.mark.parametrize("text,line,phrase", [
    ("FROM repro-base/debian:${SUITE}\n", 1, "no `ARG` before the first FROM declares"),
    ("ARG SUITE\n\nFROM repro-base/debian:$SUITE\n", 3, "has no value"),
    # An ARG after FROM does not exist for FROM lines (Docker's rule).
    ("FROM repro-base/busybox\nARG V=1\nFROM app:${V}\n", 3, "no `ARG` before"),
    ("ARG B=Upper/Case\nFROM $B\n", 2, "is not an image reference"),
])
def test_an_unresolvable_from_is_a_located_config_error(tmp_path, text, line, phrase):
    with pytest.raises(ConfigError) as info:
        _parents(tmp_path, text)
    (problem,) = info.value.lines()
    assert problem.startswith(f"{tmp_path / 'Dockerfile'}:{line}: FROM:") or \
        problem.startswith(f"Dockerfile:{line}: FROM:")
    assert phrase in problem
