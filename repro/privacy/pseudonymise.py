"""`repro redact`: the customer's files, as they came in, pseudonymised once into the
scenario folder by the `privacy:` rules of the scenario and its environment.

The flow (docs/privacy.md): the originals stay in an inbox folder outside the project;
each file of it is written to `<scenario>/<to>/<same relative path>` -- through a
temporary file renamed into place, never over an original, never in place. A file no
rule names is copied as it is. The copies are then scanned like `repro audit` does; the
originals are deleted only on request and only when that scan found nothing."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from repro.config.privacy import PrivacyRule
from repro.config.project import (
    environment_file,
    load_environment,
    load_scenario,
    project_root,
    scenario_file,
)
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem
from repro.globs import glob_regex
from repro.privacy import csv_file, csv_parallel, sql_file, structured_file, text_file
from repro.privacy.key import load_key
from repro.privacy.tokens import Tokens

INBOX_VAR = "REPRO_INBOX"
SQL_SUFFIXES = (".sql", ".dump")


def default_inbox(scenario_id: str) -> Path:
    """Where a scenario's originals wait when `--from` is not given."""
    base = os.environ.get(INBOX_VAR) or str(Path.home() / "repro-inbox")
    return Path(base) / scenario_id


@dataclass
class FileDone:
    target: Path
    how: str  # "columns", "fields", "sql", "text" or "copied"
    values: int = 0


@dataclass
class Redaction:
    scenario: str
    inbox: Path
    key_source: str
    files: list[FileDone] = field(default_factory=list)
    deleted: bool = False
    # Copied as they are and out of the audit's reach (binary: an archive, a spreadsheet, a
    # database): the originals are never deleted on the strength of a scan that missed them.
    unscanned: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class _Way:
    """The merged rules for one file: how to read it and what to replace."""

    how: str
    columns: dict[str, str]
    delimiter: str | None
    fields: dict[str, str]
    sql: dict[str, str]
    text: tuple[str, ...]
    patterns: dict[str, str]


def _way(rel: str, rules: list[PrivacyRule]) -> _Way | None:
    matching = [r for r in rules if glob_regex(r.files).match(rel)]
    if not matching:
        return None
    hows = {_how(r) for r in matching}
    if len(hows) > 1:
        raise ConfigError(Problem(rel, None, "", "privacy rules read it in different ways "
                                  f"({', '.join(sorted(hows))}); narrow their `files:` globs"))
    merged: dict[str, dict[str, str]] = {"columns": {}, "fields": {}, "sql": {}, "patterns": {}}
    for rule in matching:
        for key in merged:
            merged[key].update(getattr(rule, key))
    text = tuple(dict.fromkeys(k for r in matching for k in r.text))
    delimiter = next((r.delimiter for r in matching if r.delimiter), None)
    return _Way(hows.pop(), merged["columns"], delimiter, merged["fields"], merged["sql"],
                text, merged["patterns"])


def _how(rule: PrivacyRule) -> str:
    for key in ("columns", "fields", "sql"):
        if getattr(rule, key):
            return key
    return "text"


def redact(scenario: Path, inbox: Path | None, to: str = "customer", force: bool = False,
           delete_originals: bool = False,
           audit: Callable[[list[Path]], list[str]] | None = None) -> Redaction:
    """Pseudonymise every file of `inbox` into the scenario folder. `audit` scans the
    copies; its findings keep the originals from being deleted."""
    loaded = load_scenario(scenario_file(scenario))
    environment = load_environment(environment_file(loaded))
    rules = [*environment.record.privacy, *loaded.record.privacy]
    sid = loaded.record.id or loaded.base.name
    if not rules:
        raise ConfigError(loaded.source.problem((), "no `privacy:` rules in the scenario or "
                                                "its environment: say which columns, fields "
                                                "or patterns hold personal data "
                                                "(docs/privacy.md)"))
    inbox = (inbox or default_inbox(sid)).expanduser()
    if not inbox.is_dir():
        raise ConfigError(Problem(display_path(inbox), None, "", "no such folder: put the "
                                  "customer's files there or give `--from DIR`"))
    root = project_root(loaded.base)
    if inbox.resolve().is_relative_to(root):
        raise ConfigError(Problem(display_path(inbox), None, "", "the originals are inside "
                                  f"the project ({display_path(root)}); keep them in a "
                                  "folder outside it, where git never sees them"))
    if PurePosixPath(to).is_absolute() or ".." in PurePosixPath(to).parts:
        raise ConfigError(Problem("--to", None, "", f"a folder inside the scenario, got {to!r}"))
    jobs = []
    for original in sorted(_files(inbox)):
        rel = PurePosixPath(to, original.relative_to(inbox).as_posix()).as_posix()
        target = loaded.base / rel
        if target.exists() and not force:
            raise ConfigError(Problem(display_path(target), None, "", "exists already; "
                                      "`--force` replaces it (the same key gives the same "
                                      "tokens)"))
        way = _way(rel, rules)
        if way is not None and way.how == "sql":  # refused before anything is written
            with original.open("rb") as head:
                if head.read(len(sql_file.PG_CUSTOM_MAGIC)) == sql_file.PG_CUSTOM_MAGIC:
                    sql_file.refuse_custom_format(display_path(original))
        jobs.append((original, rel, target, way))
    if not jobs:
        raise ConfigError(Problem(display_path(inbox), None, "", "the folder is empty"))
    key, source = load_key()
    tokens = Tokens(key)
    done = Redaction(sid, inbox, source)
    for original, rel, target, way in jobs:
        done.files.append(_one(original, rel, target, way, tokens, key))
    findings = audit([f.target for f in done.files]) if audit else ["not audited"]
    done.unscanned = [f.target for f in done.files if f.how == "copied" and _binary(f.target)]
    if delete_originals and not findings and not done.unscanned:
        for original, *_ in jobs:
            original.unlink()
        done.deleted = True
    return done


def _binary(path: Path) -> bool:
    from repro.privacy.audit import BINARY_SNIFF

    with path.open("rb") as head:
        return b"\0" in head.read(BINARY_SNIFF)


def _files(folder: Path) -> Iterator[Path]:
    for path in folder.rglob("*"):
        if path.is_file() and not path.is_symlink():
            yield path


def _one(original: Path, rel: str, target: Path, way: _Way | None, tokens: Tokens,
         key: bytes) -> FileDone:
    target.parent.mkdir(parents=True, exist_ok=True)
    with original.open("rb") as src, _replacing(target) as out:
        if way is None:
            shutil.copyfileobj(src, out, 1 << 20)
            return FileDone(target, "copied")
        if way.how == "columns" and csv_parallel.usable(original):
            count = csv_parallel.rewrite(original, out, way.columns, way.delimiter,
                                         display_path(original), key, target.parent)
            if count is not None:
                return FileDone(target, way.how, count)
        return FileDone(target, way.how, _rewrite(way, src, out, display_path(original),
                                                  tokens))


def _rewrite(way: _Way, src: BinaryIO, out: BinaryIO, shown: str, tokens: Tokens) -> int:
    if way.how == "columns":
        return csv_file.rewrite(src, out, way.columns, way.delimiter, shown, tokens.token_bytes)
    if way.how == "fields":
        return structured_file.rewrite(src, out, way.fields, shown, tokens.token)
    if way.how == "sql":
        return sql_file.rewrite(src, out, way.sql, shown, tokens.token)
    return text_file.rewrite(src, out, way.text, way.patterns, tokens.token)


class _replacing:  # noqa: N801 - used as a context manager, reads like one
    """A temporary file next to `target`, renamed over it only when fully written."""

    def __init__(self, target: Path):
        self._target = target

    def __enter__(self) -> BinaryIO:
        fd, name = tempfile.mkstemp(prefix=f".{self._target.name}.", suffix=".tmp",
                                    dir=self._target.parent)
        self._temp = Path(name)
        self._handle: BinaryIO = os.fdopen(fd, "wb", buffering=1 << 20)
        return self._handle

    def __exit__(self, kind: object, *_: object) -> None:
        self._handle.close()
        if kind is None:
            os.chmod(self._temp, 0o644)
            os.replace(self._temp, self._target)
        else:
            self._temp.unlink(missing_ok=True)
