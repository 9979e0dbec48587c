"""The channels a run observed, read back from its record: exit codes, outputs, files."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from repro.plan.values import CapturePlan
from repro.results.observations import exit_counts
from repro.results.outcome import StepStatus
from repro.results.reader import StoredRun, StoredStep

_BY_SUFFIX = {".json": "json", ".yaml": "yaml", ".yml": "yaml", ".csv": "csv", ".tsv": "tsv"}
_HASH_CHUNK = 4 * 1024 * 1024


@dataclass(frozen=True)
class Channel:
    """One observed thing. `value` for exit codes and absences, `path` for content."""

    name: str  # steps.NAME.exit_code | steps.NAME.stdout | steps.NAME.stderr | files.NAME
    kind: str  # exit_code | text | json | yaml | csv | tsv | binary | absent
    value: Any = None
    path: Path | None = None
    capture: CapturePlan | None = None
    # A repeated step's aggregates (`repeated`): content made here (exit-code counts), or
    # the instances' outputs whose distinct normalised texts make the channel.
    data: bytes | None = None
    parts: tuple[Path, ...] = ()

    def raw(self) -> bytes:
        if self.data is not None:
            return self.data
        if self.parts:
            return b"".join(part.read_bytes() for part in self.parts)
        return self.path.read_bytes() if self.path is not None else b""

    def raw_sha256(self) -> str | None:
        """Streamed and remembered: large outputs are hashed once, never held in memory."""
        if self.path is None and self.data is None and not self.parts:
            return None
        cached = self.__dict__.get("_sha")
        if cached is not None:
            return cached
        digest = hashlib.sha256()
        if self.data is not None:
            digest.update(self.data)
        for path in self.parts or ((self.path,) if self.path is not None else ()):
            with path.open("rb") as handle:
                while chunk := handle.read(_HASH_CHUNK):
                    digest.update(chunk)
        object.__setattr__(self, "_sha", digest.hexdigest())  # frozen, but a cache
        return self.__dict__["_sha"]


def _content_kind(path: Path, capture: CapturePlan | None) -> str:
    if capture is not None and capture.type != "auto":
        return capture.type
    suffix = Path(capture.path if capture else path.name).suffix.lower()
    if suffix in _BY_SUFFIX:
        return _BY_SUFFIX[suffix]
    with path.open("rb") as handle:
        head = handle.read(8192)
    if b"\0" in head:
        return "binary"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the 8 KiB boundary
            return "binary"
    return "text"


def from_record(run: StoredRun,
                captures: dict[str, CapturePlan] | None = None) -> list[Channel]:
    """Every channel of a run, in a stable order: steps in order, then captured files."""
    captures = captures or {}
    folder = run.folder
    out: list[Channel] = []
    for step in run.steps:
        if step.instances is not None:  # a repeated step: aggregates, then each instance
            out += repeated(step, folder)
            continue
        out += _step_channels(step, f"steps.{step.name}", folder)
    for cap in run.captures:
        if cap.query:  # database state: rows as CSV, keyed like the query says
            plan = captures.get(f"query:{cap.name}")
            if not cap.exists or cap.artifact is None:
                out.append(Channel(f"queries.{cap.name}", "absent",
                                   f"(query failed: {cap.error})", capture=plan))
            else:
                out.append(Channel(f"queries.{cap.name}", "csv",
                                   path=folder / cap.artifact, capture=plan))
            continue
        name, plan = cap.name, captures.get(cap.name)
        if not cap.exists or cap.artifact is None:
            out.append(Channel(f"files.{name}", "absent", "(absent)", capture=plan))
            continue
        root = folder / cap.artifact
        if cap.kind == "dir":
            for item in sorted(p for p in root.rglob("*") if p.is_file()):
                rel = item.relative_to(root).as_posix()
                out.append(Channel(f"files.{name}/{rel}", _content_kind(item, None),
                                   path=item, capture=plan))
        else:
            out.append(Channel(f"files.{name}", _content_kind(root, plan), path=root,
                               capture=plan))
    return out


def _step_channels(step: StoredStep, base: str, folder: Path) -> list[Channel]:
    """exit_code, stdout and stderr of one step (or one instance of a repeated one)."""
    out: list[Channel] = []
    value = step.exit_code if step.status in (StepStatus.OK, StepStatus.FAILED) else \
        step.status.value
    out.append(Channel(f"{base}.exit_code", "exit_code", value))
    if step.status == StepStatus.SKIPPED:
        return out
    for stream, rel in (("stdout", step.stdout_file), ("stderr", step.stderr_file)):
        path = folder / rel if rel else None
        if path is None or not path.exists():
            out.append(Channel(f"{base}.{stream}", "absent", "(not recorded)"))
        else:
            out.append(Channel(f"{base}.{stream}", _content_kind(path, None), path=path))
    return out


def repeated(step: StoredStep, folder: Path) -> list[Channel]:
    """A repeated step: `steps.NAME.exit_codes` (how many instances ended how), `.stdout`
    and `.stderr` (the set of distinct outputs, normalised), then each instance's own
    channels as `steps.NAME.N.*` unless it compares only the aggregate."""
    instances = step.instances or ()
    base = f"steps.{step.name}"
    out = [Channel(f"{base}.exit_codes", "text", data="".join(
        f"{k}: {n}\n" for k, n in exit_counts(instances).items()).encode())]
    for stream in ("stdout", "stderr"):
        files = [folder / rel for rel in (getattr(i, f"{stream}_file") for i in instances)
                 if rel and (folder / rel).exists()]
        out.append(Channel(f"{base}.{stream}", "text", parts=tuple(files)) if files else
                   Channel(f"{base}.{stream}", "absent", "(not recorded)"))
    if step.compare != "aggregate":
        for inst in instances:
            out += _step_channels(inst, f"{base}.{inst.instance}", folder)
    return out
