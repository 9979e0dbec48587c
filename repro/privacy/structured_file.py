"""Pseudonymise fields of JSON, JSON Lines and YAML files, by dotted path (`*`: any key
or list index). JSON and YAML are read whole; JSON Lines one object per line."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, BinaryIO

from repro.errors import ConfigError, Problem

Token = Callable[[str, str], str]
JSON_LINES = (".jsonl", ".ndjson")
YAML = (".yaml", ".yml")


def rewrite(src: BinaryIO, out: BinaryIO, fields: dict[str, str], shown: str,
            token: Token) -> int:
    paths = [(key.split("."), kind) for key, kind in fields.items()]
    count = 0

    def apply(doc: Any) -> Any:
        nonlocal count
        for path, kind in paths:
            doc, n = _replace(doc, path, kind, token)
            count += n
        return doc

    name = shown.lower()
    if name.endswith(JSON_LINES):
        for number, line in enumerate(src, 1):
            if not line.strip():
                out.write(line)
                continue
            doc = apply(_json(line, shown, number))
            end = b"\r\n" if line.endswith(b"\r\n") else b"\n" if line.endswith(b"\n") else b""
            out.write(json.dumps(doc, ensure_ascii=False).encode() + end)
        return count
    raw = src.read()
    if name.endswith(YAML):
        import yaml

        try:
            docs = list(yaml.safe_load_all(raw))
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise ConfigError(Problem(shown, mark.line + 1 if mark else None, "",
                                      f"not YAML: {getattr(exc, 'problem', exc)}")) from None
        text = yaml.safe_dump_all([apply(d) for d in docs], allow_unicode=True,
                                  sort_keys=False)
        out.write(text.encode())
        return count
    doc = apply(_json(raw, shown, None))
    out.write(json.dumps(doc, ensure_ascii=False, indent=2).encode() + b"\n")
    return count


def _json(raw: bytes, shown: str, line: int | None) -> Any:
    try:
        return json.loads(raw)
    except ValueError as exc:
        at = line or getattr(exc, "lineno", None)
        raise ConfigError(Problem(shown, at, "", f"not JSON: {exc}")) from None


def _replace(doc: Any, path: list[str], kind: str, token: Token) -> tuple[Any, int]:
    if not path:
        if isinstance(doc, str):
            return token(kind, doc), 1
        if isinstance(doc, int) and not isinstance(doc, bool) and kind == "phone":
            return int(token(kind, str(doc))), 1
        return doc, 0
    head, rest = path[0], path[1:]
    count = 0
    if isinstance(doc, dict):
        for key in list(doc) if head == "*" else [head] if head in doc else []:
            doc[key], n = _replace(doc[key], rest, kind, token)
            count += n
    elif isinstance(doc, list):
        indexes = range(len(doc)) if head == "*" else (
            [int(head)] if head.isdigit() and int(head) < len(doc) else [])
        for i in indexes:
            doc[i], n = _replace(doc[i], rest, kind, token)
            count += n
    return doc, count
