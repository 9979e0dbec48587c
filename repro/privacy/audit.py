"""`repro audit`: personal data and secrets that the privacy rules missed, in scenarios,
baselines, run records and packed cases, one finding per line, the values masked.

Known-synthetic values pass: redact's tokens (see repro.privacy.tokens), the reserved
example domains and networks, and what the project lists in `.privacy-allow`."""

from __future__ import annotations

import re
import tarfile
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from repro.errors import ConfigError, Problem
from repro.privacy import audit_parallel, detect, suspects
from repro.privacy.text_file import line_blocks
from repro.privacy.tokens import is_token
from repro.redact import forms

ALLOW_FILE = ".privacy-allow"
SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache",
             ".ruff_cache", ".pytest_cache", ".import_linter_cache", ".tox"}
TARBALLS = (".tar.gz", ".tgz", ".tar")
BINARY_SNIFF = 8192
# Domains reserved for examples and tests (RFC 2606, RFC 6761).
_RESERVED_DOMAIN = re.compile(r"(?:^|\.)(?:example\.(?:com|org|net)|example|test|invalid|"
                              r"localhost)$", re.I)
# Secrets by their well-known shapes (the project's own secret values come on top).
SECRET_SHAPES = {
    "private key": r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----",
    "AWS access key": r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
    "GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{22,}\b",
    "Slack token": r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b",
    "Google API key": r"\bAIza[0-9A-Za-z_\-]{35}\b",
}
_SECRETS = re.compile("|".join(f"(?:{p})" for p in SECRET_SHAPES.values()))
# Literals one of which every secret shape contains: the regex runs only on the lines holding
# one (each hint starts with a literal the regex engine skips to).
_SECRET_HINTS = tuple(re.compile(h) for h in (
    "PRIVATE KEY", "A(?:KIA|SIA|Iza)", "g(?:h[pousr]_|ithub_pat_)", "xox"))


@dataclass(frozen=True)
class Finding:
    where: str  # a file, or `pack.tar.gz!member`
    line: int
    kind: str
    masked: str

    def __str__(self) -> str:  # names come from files and archives: no terminal escapes
        from repro.report.terminal import printable  # not in the scan's worker processes

        return printable(f"{self.where}:{self.line}: {self.kind} {self.masked}")


def mask(kind: str, value: str) -> str:
    """Enough to find it again in the file, not enough to read it."""
    if kind == "email":
        local, _, domain = value.partition("@")
        name, _, tld = domain.rpartition(".")
        return f"{local[:1]}***@{name[:1]}***.{tld}"
    if kind == "ip":
        sep = ":" if ":" in value else "."
        parts = value.split(sep)
        return sep.join(parts[:2] + ["*" * len(p) for p in parts[2:]])
    if kind in ("iban", "phone"):
        keep = 2
        out, seen, total = [], 0, sum(c.isalnum() for c in value)
        for c in value:
            if c.isalnum():
                seen += 1
                out.append(c if seen <= keep or seen > total - 2 else "*")
            else:
                out.append(c)
        return "".join(out)
    return "***"


class Allowed:
    """Synthetic values: tokens, reserved examples, and the project's `.privacy-allow`
    (one value a line, or `re:REGEX`; `#` starts a comment)."""

    def __init__(self, lines: Iterable[str] = (), source: str = ALLOW_FILE):
        self.values: set[str] = set()
        self.patterns: list[re.Pattern[str]] = []
        for number, raw in enumerate(lines, 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("re:"):
                try:
                    self.patterns.append(re.compile(line[3:]))
                except re.error as exc:
                    raise ConfigError(Problem(source, number, "", f"not a regular expression "
                                              f"after `re:` ({exc})")) from None
            else:
                self.values.add(line.lower())

    @classmethod
    def of_project(cls, root: Path) -> Allowed:
        from repro.config.yaml_source import display_path

        path = root / ALLOW_FILE
        if not path.is_file():
            return cls()
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(Problem(display_path(path), None, "", f"cannot be read as UTF-8 "
                                      f"text ({exc.__class__.__name__})")) from None
        return cls(text.splitlines(), display_path(path))

    def __call__(self, kind: str, value: str) -> bool:
        if kind == "email" and _RESERVED_DOMAIN.search(value.rpartition("@")[2]):
            return True
        if is_token(kind, value) or value.lower() in self.values:
            return True
        return any(p.fullmatch(value) for p in self.patterns)


@dataclass
class Scanner:
    """Finds personal data and secrets in files, folders and tarballs."""

    allowed: Allowed
    secrets: dict[str, set[Path]]  # a secret value -> the files allowed to hold it

    @classmethod
    def of_project(cls, root: Path) -> Scanner:
        """With the project's allow-list and its secret parameters' values."""
        return cls(Allowed.of_project(root), project_secrets(root))

    def __post_init__(self) -> None:
        self._pattern = detect.finder(("email", "iban", "ip", "phone"))
        self._secret_forms = sorted(((f, s) for s in self.secrets for f in forms(s)),
                                    key=lambda fs: -len(fs[0]))

    def paths(self, targets: Iterable[Path]) -> Iterator[Finding]:
        for target in targets:
            if target.is_dir():
                for path in sorted(_walk(target)):
                    yield from self.file(path)
            else:
                yield from self.file(target)

    def file(self, path: Path) -> Iterator[Finding]:
        from repro.config.yaml_source import display_path

        shown = display_path(path)
        if path.name.endswith(TARBALLS):
            yield from self._tarball(path, shown)
            return
        allowed_secrets = {s for s, files in self.secrets.items() if path.resolve() in files}
        try:
            handle = path.open("rb")
        except OSError as exc:  # a finding: what cannot be read cannot be called clean
            yield Finding(shown, 0, "unreadable file", exc.strerror or str(exc))
            return
        with handle:
            if not audit_parallel.usable(path.stat().st_size):
                yield from self._stream(handle, shown, allowed_secrets)
            elif b"\0" not in handle.read(BINARY_SNIFF):  # else binary, as in _stream
                for line, kind, masked in audit_parallel.scan(self._lines, path,
                                                              allowed_secrets):
                    yield Finding(shown, line, kind, masked)

    def _tarball(self, path: Path, shown: str) -> Iterator[Finding]:
        try:
            with tarfile.open(path, "r:*") as archive:
                for member in archive:
                    if not member.isfile():
                        continue
                    handle = archive.extractfile(member)
                    if handle is not None:
                        yield from self._stream(handle, f"{shown}!{member.name}", set())
        except (tarfile.TarError, OSError, EOFError) as exc:
            yield Finding(shown, 0, "unreadable archive", str(exc)[:80])

    def _stream(self, handle: IO[bytes], shown: str, allowed_secrets: Collection[str]
                ) -> Iterator[Finding]:
        """A megabyte of whole lines at a time."""
        head = handle.read(BINARY_SNIFF)
        if b"\0" in head:
            return  # binary: images, databases; out of reach of a line scan
        for line, kind, masked in self._lines(line_blocks(handle, head), allowed_secrets):
            yield Finding(shown, line, kind, masked)

    def _lines(self, blocks: Iterable[bytes], allowed_secrets: Collection[str]
               ) -> Iterator[tuple[int, str, str]]:
        """(line, kind, masked value) of each finding in blocks of whole lines; the line of
        a finding counted from the newlines before it."""
        line = 1
        for block in blocks:
            text = block.decode("utf-8", "replace")
            seen, at = line, 0
            for pos, kind, masked in self.chunk(text, allowed_secrets):
                seen += text.count("\n", at, pos)
                at = pos
                yield seen, kind, masked
            line += text.count("\n")

    def chunk(self, text: str, allowed_secrets: Collection[str] = ()
              ) -> list[tuple[int, str, str]]:
        """(position, kind, masked value) of each finding in `text`, in order. The
        detectors run on the suspect lines only (repro.privacy.suspects)."""
        out = [(start + m.start, m.kind, mask(m.kind, m.value))
               for start, end in suspects.spans(text)
               for m in detect.find_all(text[start:end])
               if not self.allowed(m.kind, m.value)]
        for start, end in suspects.lines(text, _SECRET_HINTS):  # a shape is in one line
            for m in _SECRETS.finditer(text, start, end):
                kind = next(k for k, p in SECRET_SHAPES.items() if re.search(p, m.group()))
                out.append((m.start(), kind, "***"))
        for form, secret in self._secret_forms:
            if secret in allowed_secrets:
                continue
            pos = text.find(form)
            while pos >= 0:
                out.append((pos, "secret parameter value", "***"))
                pos = text.find(form, pos + len(form))
        out.sort()
        return _one_secret_a_line(out, text)


def _one_secret_a_line(found: list[tuple[int, str, str]], text: str
                       ) -> list[tuple[int, str, str]]:
    """A secret's forms overlap (the value and its quoted form): one finding a line."""
    out: list[tuple[int, str, str]] = []
    lines_with_secret: set[int] = set()
    for item in found:
        if item[1] == "secret parameter value":
            start = text.rfind("\n", 0, item[0])
            if start in lines_with_secret:
                continue
            lines_with_secret.add(start)
        out.append(item)
    return out


def _walk(folder: Path) -> Iterator[Path]:
    for path in folder.iterdir():
        if path.is_symlink():
            continue
        if path.is_dir():
            if path.name not in SKIP_DIRS:
                yield from _walk(path)
        elif path.is_file() and path.name != ALLOW_FILE:
            yield path


def project_secrets(root: Path) -> dict[str, set[Path]]:
    """The secret parameter values of the project's scenarios, each with the files that
    legitimately hold it: the environment, the scenario and its parameter exports."""
    from repro.config.project import discover, environment_file, load_scenario
    from repro.errors import ReproError
    from repro.plan.build import plan_scenario

    found: dict[str, set[Path]] = {}
    for path in discover(root):
        if path.name != "scenario.yaml":
            continue
        try:
            plan = plan_scenario(path)
            loaded = load_scenario(path)
            sources = {path.resolve(), environment_file(loaded).resolve(),
                       *((loaded.base / p.path).resolve()
                         for p in loaded.record.parameters_from)}
        except ReproError:
            continue  # `repro validate` speaks of broken scenarios
        for secret in plan.redactor.secrets:
            if len(secret) >= 4:
                found.setdefault(secret, set()).update(sources)
    return found


def default_targets(root: Path) -> list[Path]:
    """Scenarios (baselines and customer files with them), run records, packed cases."""
    targets = [p for p in (root / "scenarios", root / ".repro" / "runs") if p.is_dir()]
    packs = [p for p in _walk(root) if p.name.endswith(TARBALLS)
             and not any(p.is_relative_to(t) for t in targets)]
    return targets + sorted(packs)
