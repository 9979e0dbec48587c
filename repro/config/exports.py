"""Parameter exports in the formats products write them: postgresql.conf, Java .properties,
my.cnf and shell-style .env. Each reader gives the values as the product means them (quotes
and escapes undone) and the line that set each key, for errors and the plan's origins."""

from __future__ import annotations

import re

from repro.errors import ConfigError, Problem

Values = dict[str, str]
Lines = dict[str, int]

_INCLUDES = ("include", "include_if_exists", "include_dir")
_PG_KEY = re.compile(r"\s*([A-Za-z_][\w.\-]*)\s*(=\s*|\s+|$)")
_PG_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


def _refuse(shown: str, line: int, what: str) -> ConfigError:
    return ConfigError(Problem(shown, line, "", what))


def read_pgconf(text: str, shown: str) -> tuple[Values, Lines]:
    """`name = value` or `name value`; 'quoted' values with '' and backslash escapes; `#`
    comments; a later setting wins, as in the server."""
    values: Values = {}
    lines: Lines = {}
    for number, raw in enumerate(text.splitlines(), 1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        match = _PG_KEY.match(raw)
        if not match or not match.group(2):
            raise _refuse(shown, number, "expected `name = value`")
        key = match.group(1)
        if key.lower() in _INCLUDES:
            raise _refuse(shown, number, f"`{key}` is not followed: add the included file to "
                          "`parameters_from` instead")
        value, rest = _pg_value(raw[match.end():], shown, number)
        if rest.strip() and not rest.strip().startswith("#"):
            raise _refuse(shown, number, f"{key}: unexpected text after the value; quote a "
                          "value with spaces ('...')")
        values.pop(key, None)  # keeps the file's order of the setting that wins
        values[key], lines[key] = value, number
    return values, lines


def _pg_value(text: str, shown: str, number: int) -> tuple[str, str]:
    """The value at the start of `text` and what follows it."""
    text = text.lstrip()
    if not text.startswith("'"):
        token = re.match(r"[^\s#]*", text)
        return (token.group(0) if token else ""), text[token.end() if token else 0:]
    out, i = [], 1
    while i < len(text):
        char = text[i]
        if char == "'" and text[i + 1:i + 2] == "'":
            out.append("'")
            i += 2
        elif char == "'":
            return "".join(out), text[i + 1:]
        elif char == "\\" and i + 1 < len(text):
            out.append(_PG_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(char)
            i += 1
    raise _refuse(shown, number, "unterminated quoted value: close it with '")


_PROP_ESCAPES = {"t": "\t", "n": "\n", "r": "\r", "f": "\f"}


def read_properties(text: str, shown: str) -> tuple[Values, Lines]:
    """Java .properties: `key=value`, `key: value` or `key value`; `#`/`!` comments; a line
    ending in an odd number of backslashes continues on the next; \\uXXXX escapes."""
    values: Values = {}
    lines: Lines = {}
    raw_lines = text.splitlines()
    number = 0
    while number < len(raw_lines):
        start = number + 1
        logical = raw_lines[number].lstrip()
        number += 1
        if not logical or logical[0] in "#!":
            continue
        while _continues(logical) and number < len(raw_lines):
            logical = logical[:-1] + raw_lines[number].lstrip()
            number += 1
        if _continues(logical):
            logical = logical[:-1]
        key, value = _split_property(logical, shown, start)
        values.pop(key, None)
        values[key], lines[key] = value, start
    return values, lines


def _continues(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


def _split_property(line: str, shown: str, number: int) -> tuple[str, str]:
    i = 0
    while i < len(line) and line[i] not in "=: \t\f":
        i += 2 if line[i] == "\\" else 1
    key = _unescape(line[:i], shown, number)
    rest = line[i:].lstrip(" \t\f")
    if rest[:1] in ("=", ":"):
        rest = rest[1:].lstrip(" \t\f")
    return key, _unescape(rest, shown, number)


def _unescape(text: str, shown: str, number: int) -> str:
    out, i = [], 0
    while i < len(text):
        if text[i] != "\\" or i + 1 == len(text):
            out.append(text[i])
            i += 1
            continue
        char = text[i + 1]
        if char == "u":
            digits = text[i + 2:i + 6]
            if not re.fullmatch(r"[0-9A-Fa-f]{4}", digits):
                raise _refuse(shown, number, "malformed \\uXXXX escape")
            out.append(chr(int(digits, 16)))
            i += 6
            continue
        out.append(_PROP_ESCAPES.get(char, char))
        i += 2
    return "".join(out)


def read_mycnf(text: str, shown: str, section: str | None) -> tuple[Values, Lines]:
    """my.cnf: [sections], `key = value`, bare keys (an option switched on: "true"),
    quoted values, `#`/`;` comments. Without `section`, keys from every section, and a key
    set differently in two sections is refused."""
    values: Values = {}
    lines: Lines = {}
    origin: dict[str, str] = {}
    current: str | None = None
    seen: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("!include"):
            raise _refuse(shown, number, f"`{line.split()[0]}` is not followed: add the "
                          "included file to `parameters_from` instead")
        if line.startswith("["):
            if not line.endswith("]"):
                raise _refuse(shown, number, "expected a [section] header, e.g. [mysqld]")
            current = line[1:-1].strip()
            seen.append(current)
            continue
        if current is None:
            raise _refuse(shown, number, "expected a [section] header, e.g. [mysqld], before "
                          "the first option")
        key, sep, value = line.partition("=")
        key = key.strip()
        value = _cnf_value(value.strip()) if sep else "true"
        if section is not None and current != section:
            continue
        if key in values and values[key] != value and origin[key] != current:
            raise _refuse(shown, number, f"{key}: set differently in [{origin[key]}] and "
                          f"[{current}]; pick one with `section:`")
        values[key], lines[key], origin[key] = value, number, current
    if section is not None and section not in seen:
        raise ConfigError(Problem(shown, None, "", f"no section [{section}] (sections: "
                                  f"{', '.join(seen) or 'none'})"))
    return values, lines


def _cnf_value(value: str) -> str:
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        return value[1:-1]
    return re.split(r"\s+#", value, maxsplit=1)[0]


def read_env(text: str, shown: str) -> tuple[Values, Lines]:
    """KEY=value, `export KEY=value`, 'single' or "double" quotes (\\" and \\\\ escaped
    inside double quotes), `# comments` after a space."""
    values: Values = {}
    lines: Lines = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.removeprefix("export ").partition("=")
        if not sep or not key.strip():  # the line itself is not echoed: it may hold a secret
            raise _refuse(shown, number, "expected KEY=VALUE")
        value = value.strip()
        quoted = re.match(r"'([^']*)'|\"((?:[^\"\\]|\\.)*)\"", value)
        if quoted:
            rest = value[quoted.end():].strip()
            if rest and not rest.startswith("#"):
                raise _refuse(shown, number, f"{key.strip()}: unexpected text after the "
                              "quoted value")
            value = quoted.group(1) if quoted.group(1) is not None else re.sub(
                r"\\(.)", r"\1", quoted.group(2))
        elif value[:1] in ("'", '"'):
            raise _refuse(shown, number, f"{key.strip()}: unterminated quoted value")
        else:
            value = re.split(r"\s+#", value, maxsplit=1)[0]  # `KEY=v  # comment`
        values[key.strip()], lines[key.strip()] = value, number
    return values, lines
