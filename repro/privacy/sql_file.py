"""Pseudonymise columns of a plain SQL dump: INSERT statements (with or without a column
list: the columns then come from the dump's CREATE TABLE) and COPY ... FROM stdin blocks.

Read statement by statement, so memory stays bounded by the longest statement; every
statement that holds none of the declared columns is copied byte for byte."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import BinaryIO

from repro.errors import ConfigError, Problem

Token = Callable[[str, str], str]
PG_CUSTOM_MAGIC = b"PGDMP"

_NAME = r'(?:"(?:[^"]|"")+"|`[^`]+`|[A-Za-z_][\w$]*)'
_QUALIFIED = rf"{_NAME}(?:\s*\.\s*{_NAME})*"
_INSERT = re.compile(rf"^\s*INSERT\s+(?:IGNORE\s+)?INTO\s+({_QUALIFIED})\s*(\(([^)]*)\))?\s*"
                     r"VALUES\s*", re.I | re.S)
_STARTS = re.compile(r"^\s*(?:INSERT\s|CREATE\s+(?:UNLOGGED\s+|TEMP(?:ORARY)?\s+)?TABLE\s)",
                     re.I)
_COPY = re.compile(rf"^\s*COPY\s+(?:ONLY\s+)?({_QUALIFIED})\s*(?:\(([^)]*)\))?\s+FROM\s+stdin",
                   re.I)
_CREATE = re.compile(rf"^\s*CREATE\s+(?:UNLOGGED\s+|TEMP(?:ORARY)?\s+)?TABLE\s+"
                     rf"(?:IF\s+NOT\s+EXISTS\s+)?({_QUALIFIED})\s*\(", re.I)
_NOT_COLUMNS = {"constraint", "primary", "unique", "foreign", "check", "key", "index",
                "exclude", "like", "fulltext", "spatial"}
_COPY_ESCAPES = {"\\\\": "\\", "\\t": "\t", "\\n": "\n", "\\r": "\r"}


def _unquote(name: str) -> str:
    name = name.strip()
    if name[:1] in "\"`" and name[-1:] == name[:1]:
        return name[1:-1].replace('""', '"')
    return name.lower()


def _parts(qualified: str) -> list[str]:
    return [_unquote(p) for p in re.findall(_NAME, qualified)]


def _columns(text: str) -> list[str]:
    return [_unquote(c) for c in _split_top(text) if c.strip()]


def _split_top(text: str) -> list[str]:
    """Split on commas outside parentheses and quotes."""
    parts, depth, start, quote = [], 0, 0, ""
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


class SqlRules:
    """table.column -> kind, matched with or without the schema, case-insensitively
    (quoted names as written)."""

    def __init__(self, sql: dict[str, str]):
        self._rules = [(_parts(key), kind) for key, kind in sql.items()]

    def targets(self, table: list[str], columns: list[str]) -> dict[int, str]:
        out: dict[int, str] = {}
        for parts, kind in self._rules:
            want_table, want_column = parts[:-1], parts[-1]
            if [p.lower() for p in table[-len(want_table):]] != [p.lower() for p in want_table]:
                continue
            for i, column in enumerate(columns):
                if column.lower() == want_column.lower():
                    out[i] = kind
        return out


def refuse_custom_format(shown: str) -> None:
    raise ConfigError(Problem(shown, None, "", "a PostgreSQL custom-format dump cannot be "
                              "pseudonymised; ask for a plain one (pg_dump --format=plain) "
                              "or restore it and dump it plain"))


def rewrite(src: BinaryIO, out: BinaryIO, sql: dict[str, str], shown: str,
            token: Token) -> int:
    head = src.read(len(PG_CUSTOM_MAGIC))
    if head == PG_CUSTOM_MAGIC:
        refuse_custom_format(shown)
    rules = SqlRules(sql)
    known: dict[str, list[str]] = {}  # table -> columns, from CREATE TABLE
    replaced = 0
    lines = _Lines(_lines(head, src))
    for line in lines:
        copy = _COPY.match(line)
        if copy:
            out.write(_enc(line))
            table = _parts(copy.group(1))
            columns = _columns(copy.group(2)) if copy.group(2) else known.get(
                ".".join(table).lower(), [])
            replaced += _copy_block(lines, out, rules.targets(table, columns), token)
            continue
        if not _STARTS.match(line):
            out.write(_enc(line))
            continue
        statement = line
        while not _complete(statement):
            more = next(lines, None)
            if more is None:
                break
            statement += more
        statement, rest = _first_statement(statement)
        if rest:
            lines.push(rest)  # the next statement on the same line
        create = _CREATE.match(statement)
        if create:
            body = statement[create.end():statement.rfind(")")]
            names = [c.split()[0] for c in _split_top(body) if c.split()]
            known[".".join(_parts(create.group(1))).lower()] = [
                _unquote(n) for n in names if n.lower() not in _NOT_COLUMNS]
            out.write(_enc(statement))
            continue
        if not _INSERT.match(statement):  # INSERT ... SELECT, say: no values to rewrite
            out.write(_enc(statement))
            continue
        new, count = _insert(statement, rules, known, token)
        out.write(_enc(new))
        replaced += count
    return replaced


def _enc(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


def _lines(head: bytes, src: BinaryIO) -> Iterator[str]:
    first = head + src.readline()
    if first:
        yield first.decode("utf-8", "surrogateescape")
    for raw in src:
        yield raw.decode("utf-8", "surrogateescape")


class _Lines:
    """The dump's lines, with what follows a statement's first `;` put back, line by line
    (it may hold the next statement, a comment, or lines read ahead to complete it)."""

    def __init__(self, lines: Iterator[str]):
        self._lines = lines
        self._back: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        return self._back.pop() if self._back else next(self._lines)

    def push(self, text: str) -> None:
        self._back.extend(reversed(text.splitlines(keepends=True)))


_CUT = {False: re.compile(r"'(?:[^']|'')*'|;", re.S),  # standard SQL strings
        True: re.compile(r"'(?:[^'\\]|''|\\.)*'|;", re.S)}  # backslash escapes (MySQL)


def _first_statement(text: str) -> tuple[str, str]:
    """`text` cut after its first `;` outside a string literal: a line may hold several
    statements (each is read against its own table). What follows that is only
    whitespace stays with the statement, byte for byte."""
    mysql = "\\'" in text or "`" in text
    for m in _CUT[mysql].finditer(text):
        if m.group() == ";":
            rest = text[m.end():]
            return (text, "") if not rest.strip() else (text[:m.end()], rest)
    return text, ""


_STRINGS = (re.compile(r"'(?:[^']|'')*'", re.S),  # standard SQL (PostgreSQL)
            re.compile(r"'(?:[^'\\]|''|\\.)*'", re.S))  # backslash escapes (MySQL)


def _complete(statement: str) -> bool:
    """Ends with `;` outside a string literal, as either dialect reads strings."""
    for strings in _STRINGS:
        stripped = strings.sub("", statement).rstrip()
        if stripped.endswith(";") and stripped.count("'") == 0:
            return True
    return False


def _insert(statement: str, rules: SqlRules, known: dict[str, list[str]], token: Token
            ) -> tuple[str, int]:
    m = _INSERT.match(statement)
    assert m is not None
    table = _parts(m.group(1))
    columns = _columns(m.group(3)) if m.group(2) else known.get(".".join(table).lower(), [])
    targets = rules.targets(table, columns)
    if not targets:
        return statement, 0
    mysql = "`" in m.group(1) or "\\'" in statement
    out, pos, count = [statement[:m.end()]], m.end(), 0
    values = _tuples(statement, pos, mysql)
    for start, spans in values:
        out.append(statement[pos:start])
        pos = start
        for index, (a, b) in enumerate(spans):
            kind = targets.get(index)
            literal = statement[a:b]
            if kind is None or not literal.startswith(("'", "E'", "N'")):
                continue
            quote = literal.index("'")
            inner = literal[quote + 1:literal.rindex("'")]
            raw = inner.replace("''", "'")
            if mysql:
                raw = re.sub(r"\\(.)", r"\1", raw)
            new = token(kind, raw).replace("'", "''")
            out.append(statement[pos:a] + literal[:quote + 1] + new +
                       literal[literal.rindex("'"):])
            pos = b
            count += 1
    out.append(statement[pos:])
    return "".join(out), count


_TOKEN = re.compile(r"'(?:[^'\\]|''|\\.)*'|'(?:[^']|'')*'|[(),]|[^'(),]+", re.S)
_TOKEN_PG = re.compile(r"'(?:[^']|'')*'|[(),]|[^'(),]+", re.S)


def _tuples(statement: str, pos: int, mysql: bool) -> list[tuple[int, list[tuple[int, int]]]]:
    """Each row's position and its values' spans (literal text, spaces trimmed)."""
    rows: list[tuple[int, list[tuple[int, int]]]] = []
    depth, start, value_start = 0, 0, 0
    spans: list[tuple[int, int]] = []
    for tok in (_TOKEN if mysql else _TOKEN_PG).finditer(statement, pos):
        text = tok.group()
        if text == "(":
            depth += 1
            if depth == 1:
                start, spans, value_start = tok.start(), [], tok.end()
        elif text == ")":
            depth -= 1
            if depth == 0:
                spans.append(_trim(statement, value_start, tok.start()))
                rows.append((start, spans))
        elif text == "," and depth == 1:
            spans.append(_trim(statement, value_start, tok.start()))
            value_start = tok.end()
    return rows


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _copy_block(lines: Iterator[str], out: BinaryIO, targets: dict[int, str],
                token: Token) -> int:
    """The rows of COPY ... FROM stdin up to `\\.`: tab-separated, backslash-escaped."""
    count = 0
    for line in lines:
        if line.rstrip("\r\n") == "\\." or not targets:
            out.write(_enc(line))
            if line.rstrip("\r\n") == "\\.":
                return count
            continue
        body = line.rstrip("\n")
        fields = body.split("\t")
        for index, kind in targets.items():
            if index < len(fields) and fields[index] != "\\N":
                value = re.sub(r"\\[\\tnr]", lambda m: _COPY_ESCAPES[m.group()], fields[index])
                new = token(kind, value)
                fields[index] = new.replace("\\", "\\\\").replace("\t", "\\t").replace(
                    "\n", "\\n").replace("\r", "\\r")
                count += 1
        out.write(_enc("\t".join(fields) + line[len(body):]))
    return count
