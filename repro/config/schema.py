"""Turn raw YAML data into frozen dataclass records, collecting every problem at once.

A small, fast stand-in for a validation library: the models in `model.py` are plain
dataclasses whose type hints drive both validation and `repro schema` (JSON Schema).
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable
from typing import Any, Literal, TypeVar, Union, get_args, get_origin

from repro.config.yaml_source import Loc, Source
from repro.errors import Problem

_MISSING = dataclasses.MISSING

T = TypeVar("T")
# A YAML list validates into a tuple: records declare `tuple[X, ...]` (`list[X]` reads the same).
_SEQUENCES = (list, tuple)


def spec(default: Any = _MISSING, *, doc: str = "", alias: str | None = None,
         parse: Any = None, schema: dict[str, Any] | None = None, factory: Any = _MISSING) -> Any:
    """A dataclass field with a description, an optional YAML alias and custom parser."""
    meta = {"doc": doc, "alias": alias, "parse": parse, "schema": schema}
    if factory is not _MISSING:
        return dataclasses.field(default_factory=factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def did_you_mean(word: str, choices: typing.Iterable[str]) -> str:
    """Case-insensitive: a customer's DECIMAL_SEPARATOR is decimal_separator."""
    by_lower = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return f" (did you mean '{by_lower[close[0]]}'?)" if close else ""


def _hints(cls: type) -> dict[str, Any]:
    cached: dict[str, Any] | None = cls.__dict__.get("__spec_hints__")
    if cached is None:
        cached = typing.get_type_hints(cls)
        # A cache on the class itself; setattr because the attribute is not declared.
        setattr(cls, "__spec_hints__", cached)  # noqa: B010
    return cached


def _key(f: dataclasses.Field[Any]) -> str:
    alias: str | None = f.metadata.get("alias")
    return alias or f.name


def _type_name(tp: Any) -> str:
    origin = get_origin(tp)
    if tp is str:
        return "a string"
    if tp is int:
        return "a whole number"
    if tp is float:
        return "a number"
    if tp is bool:
        return "true or false"
    if origin in _SEQUENCES:
        return "a list"
    if origin is dict or dataclasses.is_dataclass(tp):
        return "a mapping"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in get_args(tp))
    if origin in (Union, types.UnionType):
        return " or ".join(_type_name(a) for a in get_args(tp) if a is not type(None))
    return str(tp)


class Invalid(Exception):
    """Raised by a field parser; the message is shown after the key path."""


def build(cls: type[T], src: Source, loc: Loc = ()) -> T:
    """Validate `src.data` at `loc` as `cls`; raise ConfigError with all problems."""
    from repro.errors import ConfigError

    problems: list[Problem] = []
    value: T = _convert(cls, _at(src.data, loc), loc, src, problems)
    if problems:
        raise ConfigError(problems)
    return value


def _at(data: Any, loc: Loc) -> Any:
    for part in loc:
        data = data[part]
    return data


def _convert(tp: Any, raw: Any, loc: Loc, src: Source, problems: list[Problem]) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if raw is None and type(None) in options:
            return None
        for option in options:
            if option is not type(None) and _accepts(option, raw):
                return _convert(option, raw, loc, src, problems)
        problems.append(src.problem(loc, f"expected {_type_name(tp)}, got {_show(raw)}"))
        return None
    if dataclasses.is_dataclass(tp):
        return _convert_record(tp, raw, loc, src, problems)
    if origin in _SEQUENCES:
        if not isinstance(raw, list):
            problems.append(src.problem(loc, f"expected a list, got {_show(raw)}"))
            return ()
        item = get_args(tp)[0]
        return tuple(_convert(item, v, (*loc, i), src, problems) for i, v in enumerate(raw))
    if origin is dict:
        if not isinstance(raw, dict):
            problems.append(src.problem(loc, f"expected a mapping, got {_show(raw)}"))
            return {}
        _, value_tp = get_args(tp)
        return {k: _convert(value_tp, v, (*loc, k), src, problems) for k, v in raw.items()}
    if origin is Literal:
        choices = get_args(tp)
        if raw in choices:
            return raw
        hint = did_you_mean(str(raw), [str(c) for c in choices])
        problems.append(src.problem(
            loc, f"must be one of {', '.join(map(str, choices))}, got {_show(raw)}{hint}"))
        return choices[0]
    if not _accepts(tp, raw):
        problems.append(src.problem(loc, f"expected {_type_name(tp)}, got {_show(raw)}"))
        return None
    if tp is str and not isinstance(raw, str):
        # `PORT: 8080` or `DEBUG: yes` in YAML mean the strings a user typed.
        return str(raw).lower() if isinstance(raw, bool) else str(raw)
    if tp is float:
        return float(raw)
    return raw


def _accepts(tp: Any, raw: Any) -> bool:
    origin = get_origin(tp)
    if tp is Any:
        return True
    if tp is str:
        return isinstance(raw, (str, int, float, bool)) and raw is not None
    if tp is bool:
        return isinstance(raw, bool)
    if tp is int:
        return isinstance(raw, int) and not isinstance(raw, bool)
    if tp is float:
        return isinstance(raw, (int, float)) and not isinstance(raw, bool)
    if origin in _SEQUENCES:
        return isinstance(raw, list)
    if origin is dict:
        return isinstance(raw, dict)
    if origin is Literal:
        return raw in get_args(tp)
    if dataclasses.is_dataclass(tp):
        return isinstance(raw, dict) or hasattr(tp, "shorthand")
    return False


def _show(raw: Any) -> str:
    if raw is None:
        return "nothing (null)"
    if isinstance(raw, dict):
        return "a mapping"
    if isinstance(raw, list):
        return "a list"
    text = repr(raw)
    return text if len(text) <= 40 else text[:37] + "..."


def _convert_record(cls: Any, raw: Any, loc: Loc, src: Source, problems: list[Problem]
                    ) -> Any:
    if not isinstance(raw, dict) and hasattr(cls, "shorthand"):
        try:
            raw = cls.shorthand(raw)
        except Invalid as exc:
            problems.append(src.problem(loc, str(exc)))
            return None
    if not isinstance(raw, dict):
        problems.append(src.problem(loc, f"expected a mapping, got {_show(raw)}"))
        return None
    fields = {_key(f): f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            hint = did_you_mean(key, fields)
            problems.append(src.problem((*loc, key), f"unknown key{hint}"))
    hints = _hints(cls)
    values: dict[str, Any] = {}
    failed: list[dataclasses.Field[Any]] = []
    before = len(problems)
    for key, f in fields.items():
        if key not in raw:
            if f.default is _MISSING and f.default_factory is _MISSING:
                problems.append(src.problem(loc, f"'{key}' is required"))
            continue
        sub = (*loc, key)
        parse = f.metadata.get("parse")
        if parse is not None:
            try:
                if getattr(parse, "wants_text", False):  # e.g. `0644` vs `644`
                    values[f.name] = parse(raw[key], src.texts.get(sub))
                else:
                    values[f.name] = parse(raw[key])
            except Invalid as exc:
                problems.append(src.problem(sub, str(exc)))
                failed.append(f)
            continue
        count = len(problems)
        values[f.name] = _convert(hints[f.name], raw[key], sub, src, problems)
        if len(problems) > count:
            failed.append(f)
    if len(problems) > before:
        # Still run the record's own checks when every broken field has a default to
        # stand in: independent problems are all reported at once.
        if any(f.default is _MISSING and f.default_factory is _MISSING for f in failed) \
                or any(_key(f) not in raw for f in fields.values()
                       if f.default is _MISSING and f.default_factory is _MISSING):
            return None
        for f in failed:
            if f.default is not _MISSING:
                values[f.name] = f.default
            else:  # no default: then it has a factory, or we returned just above
                assert callable(f.default_factory)
                values[f.name] = f.default_factory()
        # Only findings about fields that converted fine: the stand-ins prove nothing.
        broken = {_key(f) for f in failed}
        _run_check(cls(**values), loc, src, problems, lambda sub: bool(sub) and
                   sub[0] not in broken)
        return None
    record = cls(**values)
    _run_check(record, loc, src, problems, lambda sub: True)
    return record


def _run_check(record: Any, loc: Loc, src: Source, problems: list[Problem],
               keep: Callable[[Loc], bool]) -> None:
    check = getattr(record, "check", None)
    if check is not None:
        for sub, message in check():
            if keep(sub):
                problems.append(src.problem((*loc, *sub), message))


# ---- JSON Schema ---------------------------------------------------------------------


def json_schema(cls: type, title: str) -> dict[str, Any]:
    defs: dict[str, Any] = {}
    root = _schema(cls, defs)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
            **defs[cls.__name__], "$defs": {k: v for k, v in defs.items() if k != cls.__name__}} \
        if "$ref" in root else root


def _schema(tp: Any, defs: dict[str, Any]) -> dict[str, Any]:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        options = [_schema(a, defs) for a in get_args(tp)]
        return {"anyOf": options}
    if tp is type(None):
        return {"type": "null"}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):  # a record class
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder against recursion
            props, required = {}, []
            hints = _hints(tp)
            for f in dataclasses.fields(tp):
                custom = f.metadata.get("schema")
                prop = dict(custom) if custom else _schema(hints[f.name], defs)
                if f.metadata.get("doc"):
                    prop["description"] = f.metadata["doc"]
                props[_key(f)] = prop
                if f.default is _MISSING and f.default_factory is _MISSING:
                    required.append(_key(f))
            body = {"type": "object", "properties": props, "additionalProperties": False}
            if required:
                body["required"] = required
            if tp.__doc__:
                body["description"] = tp.__doc__.strip().splitlines()[0]
            if hasattr(tp, "shorthand_schema"):
                body = {"anyOf": [body, tp.shorthand_schema]}
            defs[name] = body
        return {"$ref": f"#/$defs/{name}"}
    if origin in _SEQUENCES:
        return {"type": "array", "items": _schema(get_args(tp)[0], defs)}
    if origin is dict:
        return {"type": "object", "additionalProperties": _schema(get_args(tp)[1], defs)}
    if origin is Literal:
        return {"enum": list(get_args(tp))}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean"}
    if tp in simple:
        if tp is str:
            return {"type": ["string", "number", "boolean"]}
        return {"type": simple[tp]}
    return {}
