"""The parts of a Plan: plain frozen values, resolved and ready for a sandbox to carry out."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from repro.config.model import Limits, Ready


@dataclass(frozen=True)
class ImagePlan:
    ref: str | None
    context: Path | None = None
    dockerfile: str = "Dockerfile"
    build_args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class FileWrite:
    path: str
    content: bytes
    mode: int
    origin: str


@dataclass(frozen=True)
class DataCopy:
    source: Path
    to: str
    kind: str  # file | dir | archive
    service: str | None = None  # into a service's filesystem instead of the sandbox


@dataclass(frozen=True)
class StepPlan:
    name: str
    argv: tuple[str, ...]
    command: str
    timeout: float
    env: dict[str, str]
    workdir: str | None
    user: str | None
    stdin: bytes | None
    stop_on_failure: bool
    source: str = ""  # the command as written, before templating (no parameter values)


@dataclass(frozen=True)
class CapturePlan:
    name: str
    path: str
    type: str = "auto"
    key: tuple[str, ...] = ()
    ordered: bool = True
    tolerance: float | None = None


@dataclass(frozen=True)
class ServicePlan:
    name: str
    image: ImagePlan
    env: dict[str, str]
    files: tuple[FileWrite, ...]
    command: tuple[str, ...] | None
    ready: Ready | None
    depends_on: tuple[str, ...]
    limits: Limits


@dataclass(frozen=True)
class LoadPlan:
    service: str
    kind: str  # sql | dump | csv
    source: Path
    database: str
    user: str
    table: str | None = None
    delimiter: str = ","
    header: bool = True
    encoding: str = "UTF8"


@dataclass(frozen=True)
class QueryPlan:
    name: str
    service: str
    sql: str
    database: str
    user: str
    key: tuple[str, ...] = ()
