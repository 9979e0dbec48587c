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

from repro.privacy import detect
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


@dataclass(frozen=True)
class Finding:
    where: str  # a file, or `pack.tar.gz!member`
    line: int
    kind: str
    masked: str

    def __str__(self) -> str:
        return f"{self.where}:{self.line}: {self.kind} {self.masked}"


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

    def __init__(self, lines: Iterable[str] = ()):
        self.values: set[str] = set()
        self.patterns: list[re.Pattern[str]] = []
        for raw in lines:
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("re:"):
                self.patterns.append(re.compile(line[3:]))
            else:
                self.values.add(line.lower())

    @classmethod
    def of_project(cls, root: Path) -> Allowed:
        path = root / ALLOW_FILE
        return cls(path.read_text(encoding="utf-8").splitlines() if path.is_file() else [])

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
        with path.open("rb") as handle:
            yield from self._stream(handle, shown, allowed_secrets)

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

    def _stream(self, handle: IO[bytes], shown: str, allowed_secrets: set[str]
                ) -> Iterator[Finding]:
        head = handle.read(BINARY_SNIFF)
        if b"\0" in head:
            return  # binary: images, databases; out of reach of a line scan
        rest = handle.readline() if head and not head.endswith(b"\n") else b""
        lines = (head + rest).splitlines()
        for number, raw in enumerate(_chain(lines, handle), 1):
            yield from self.line(raw.decode("utf-8", "replace"), shown, number,
                                 allowed_secrets)

    def line(self, text: str, shown: str, number: int, allowed_secrets: Collection[str] = ()
             ) -> Iterator[Finding]:
        for found in detect.find(self._pattern, text):
            if not self.allowed(found.kind, found.value):
                yield Finding(shown, number, found.kind, mask(found.kind, found.value))
        for m in _SECRETS.finditer(text):
            kind = next(k for k, p in SECRET_SHAPES.items() if re.search(p, m.group()))
            yield Finding(shown, number, kind, "***")
        for form, secret in self._secret_forms:
            if form in text and secret not in allowed_secrets:
                yield Finding(shown, number, "secret parameter value", "***")
                break


def _chain(first: list[bytes], handle: IO[bytes]) -> Iterator[bytes]:
    yield from first
    for line in handle:
        yield line.rstrip(b"\r\n")


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
