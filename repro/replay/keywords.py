"""`-k EXPR`, as pytest reads it: words matched as substrings of a scenario's id and title
(case-insensitive), combined with `and`, `or`, `not` and parentheses."""

from __future__ import annotations

import re
from collections.abc import Callable

from repro.errors import ConfigError, Problem

Matcher = Callable[[str], bool]
_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")
_WORDS = {"and", "or", "not"}


def _problem(expr: str, why: str) -> ConfigError:
    return ConfigError(Problem("-k", None, "", f"cannot read {expr!r}: {why} (words joined "
                               "by and/or/not, with parentheses: -k 'ACME and not fixed')"))


def parse(expr: str) -> Matcher:
    """A function of the text searched (id and title) that says whether it is selected."""
    tokens = [m.group(1) for m in _TOKEN.finditer(expr)]
    if not tokens:
        raise _problem(expr, "it is empty")
    position = [0]

    def peek() -> str | None:
        return tokens[position[0]] if position[0] < len(tokens) else None

    def take() -> str:
        token = peek()
        if token is None:
            raise _problem(expr, "it ends too early")
        position[0] += 1
        return token

    def either() -> Matcher:
        left = both()
        while peek() == "or":
            take()
            left = _either(left, both())
        return left

    def both() -> Matcher:
        left = negated()
        while peek() == "and":
            take()
            left = _both(left, negated())
        return left

    def negated() -> Matcher:
        if peek() == "not":
            take()
            inner = negated()
            return lambda text: not inner(text)
        return atom()

    def atom() -> Matcher:
        token = take()
        if token == "(":
            inner = either()
            if take() != ")":
                raise _problem(expr, "a parenthesis is not closed")
            return inner
        if token == ")" or token in _WORDS:
            raise _problem(expr, f"{token!r} where a word was expected")
        word = token.lower()
        return lambda text: word in text.lower()

    matcher = either()
    if peek() is not None:
        raise _problem(expr, f"unexpected {peek()!r}")
    return matcher


def _either(a: Matcher, b: Matcher) -> Matcher:
    return lambda text: a(text) or b(text)


def _both(a: Matcher, b: Matcher) -> Matcher:
    return lambda text: a(text) and b(text)
