"""The parts of a Plan: plain frozen values, resolved and ready for a sandbox to carry out."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from repro.config.data_limits import DataBounds
from repro.config.model import Limits, Oracle, Ready, Rule, Security
from repro.config.timeline import Repeat
from repro.plan.conditions import Conditions
from repro.plan.faults import FaultPlan
from repro.redact import Redactor


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
    user_owned: bool = False  # belongs to the steps' user (a secret file), not to root


@dataclass(frozen=True)
class DataCopy:
    source: Path
    to: str
    kind: str  # file | dir | archive
    service: str | None = None  # into a service's filesystem instead of the sandbox
    bounds: DataBounds = field(default_factory=DataBounds)  # size, entries, ratio
    origin: str = field(default="", compare=False)  # `data[i]` file:line, for refusals
    skipped: tuple[str, ...] = ()  # entries not copied (devices, fifos, sockets), said
    # The command-line option that raises the bounds (`repro new --limit`), when they come
    # from one rather than from the entry's `limits:`.
    option: str = field(default="", compare=False)


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
    fault: FaultPlan | None = None  # a fault entry: no command, this is done to a service
    # -- the timeline (execute.timeline) --
    number: int = 0  # 1-based position among the command steps: its files are NN-name.*
    at: float | None = None  # start offset from the start of the steps
    background: bool = False
    repeat: Repeat | None = None
    instances: tuple[InstancePlan, ...] = ()  # per instance, when the command uses them


@dataclass(frozen=True)
class InstancePlan:
    """One instance of a repeated step whose command or env use `{{ instance }}`."""

    index: int  # 1-based
    argv: tuple[str, ...]
    command: str
    env: dict[str, str]


@dataclass(frozen=True)
class WaitPlan:
    """A `wait_for` entry, resolved: what it waits for, where, how long."""

    kind: str  # log | port | command
    description: str  # in words, for events and errors
    service: str | None = None
    step: str | None = None
    pattern: str | None = None  # log
    port: int | None = None
    argv: tuple[str, ...] = ()  # command
    timeout: float = 30.0
    interval: float = 0.2


@dataclass(frozen=True)
class EntryPlan:
    """One entry of the steps' timeline. `kind` picks the executor (execute.timeline):
    run (a StepPlan), wait_for (a WaitPlan), parallel (a group of entries). A new kind
    carries its own plan value in `detail`."""

    kind: str
    at: float | None = None
    step: StepPlan | None = None
    wait: WaitPlan | None = None
    group: tuple[EntryPlan, ...] = ()
    detail: Any = None
    label: str = ""  # how events and the timeline name it


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
    tmpfs: dict[str, int] = field(default_factory=dict)  # path -> bytes (small disks)


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
    create_database: bool = True


@dataclass(frozen=True)
class QueryPlan:
    name: str
    service: str
    sql: str
    database: str
    user: str
    key: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClockPlan:
    """The run's wall clock: it reads `at` (epoch seconds) when the first step starts."""

    at: float
    rate: float = 1.0
    frozen: bool = False
    origin: dict[str, Any] = field(default_factory=dict)  # where `at` came from, for people


@dataclass(frozen=True)
class Plan:
    """Every action of one run, fully resolved: what `repro plan` shows."""

    scenario_id: str
    title: str
    ticket: str
    expect: str  # reproduces | fixed
    scenario_path: Path
    environment: str
    environment_path: Path
    image: ImagePlan
    parameters: dict[str, Any]
    secret_parameters: frozenset[str]
    env: dict[str, str]
    files: tuple[FileWrite, ...]
    data: tuple[DataCopy, ...]
    steps: tuple[StepPlan, ...]
    captures: tuple[CapturePlan, ...]
    oracle: Oracle
    workdir: str | None
    user: str | None
    egress: bool
    limits: Limits
    rules: tuple[Rule, ...] = ()
    skipped_parameters: tuple[str, ...] = ()
    services: tuple[ServicePlan, ...] = ()  # in start order
    loads: tuple[LoadPlan, ...] = ()
    queries: tuple[QueryPlan, ...] = ()
    parameter_origins: dict[str, str] = field(default_factory=dict)  # key -> file:line
    conditions: Conditions = field(default_factory=Conditions)  # timezone, locale, disks
    clock: ClockPlan | None = None
    security: Security = field(default_factory=Security)  # every container's privileges
    timeline: tuple[EntryPlan, ...] = ()  # the steps' entries as written (steps: flattened)
    # `extends:` (docs/patches.md): the scenarios inherited from, and the file:line that
    # wrote each top-level key (and each parameter) of the scenario.
    extends: tuple[str, ...] = ()
    sources: tuple[tuple[str, str], ...] = ()
    # The customer's parameter exports read (`parameters_from`), resolved: with `data` and
    # `loads`, the customer files a run uses (the access log hashes them).
    parameter_files: tuple[Path, ...] = ()
    retention: float | None = None  # seconds a run record of this scenario is kept

    @property
    def baseline_path(self) -> Path:
        return self.scenario_path.parent / "baseline.yaml"

    @property
    def project_root(self) -> Path:
        return self.environment_path.parent.parent

    @cached_property
    def redactor(self) -> Redactor:
        """Masks the secret parameters' values in anything written or shown."""
        return Redactor(str(self.parameters[k]) for k in self.secret_parameters
                        if str(self.parameters.get(k, "")))
