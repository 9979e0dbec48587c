"""`repro new TICKET [--from BUNDLE]`: the scenario folder, whole or not at all.

Everything is made in a hidden folder beside the target (scenarios/.TICKET.*.new) and
renamed into place only once complete and validated; a refusal or an interrupt removes
it, so a failed `repro new` leaves nothing behind. The bundle is only read.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from repro.bundle.extract import Extracted, extract, unwrap
from repro.bundle.propose import ErrorLine, last_error
from repro.bundle.sort import Sorted, sort_files
from repro.bundle.write import CLOCK_BEFORE, DATA_ROOT, STEP, Draft, draft, printable
from repro.config.data_limits import DataBounds
from repro.config.model import Environment
from repro.config.paths import outside
from repro.config.project import SCENARIO_FILE, load_environment
from repro.config.yaml_source import display_path
from repro.errors import ConfigError, Problem

_TICKET = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
CUSTOMER = "customer"


@dataclass
class Created:
    """A scenario folder written; what it holds and what is left to do."""

    folder: Path
    environment: str
    bundle: Path | None = None
    extracted: Extracted = field(default_factory=Extracted)
    found: Sorted | None = None
    error: ErrorLine | None = None
    draft: Draft | None = None
    problems: list[str] = field(default_factory=list)  # `repro validate` on the draft

    def summary(self) -> list[str]:
        """What `repro new` prints: one line per finding, then what is left to do."""
        scenario = display_path(self.folder / SCENARIO_FILE)
        lines = [f"wrote {scenario} (environment {self.environment})"]
        if self.bundle is not None:
            lines[0] += (f": {len(self.extracted.files)} file(s) from "
                         f"{display_path(self.bundle)} in {display_path(self.folder / CUSTOMER)}/")
        found = self.found
        if found is not None:
            for export in found.exports:
                lines.append(f"  parameters_from  customer/{export.path} (sets "
                             f"{', '.join(export.sets)})")
            for rel, to in self.draft.data if self.draft else []:
                lines.append(f"  {'load' if to.startswith('service') else 'data':<16} "
                             f"{rel} -> {to}")
        error = self.error
        if error is not None and error.stamp is not None:
            zone = self.draft.zone if self.draft else None
            lines.append(f"  clock            customer/{error.log} line {error.number} "
                         f"({error.stamp.text}" + (f", zone {zone[0]}" if zone else "")
                         + f"), {CLOCK_BEFORE} before")
        elif error is not None:
            lines.append("  clock            none: no timestamp on or above the error line")
        if error is not None:
            lines.append(f"  oracle           step {STEP}: {error.pattern!r} (customer/"
                         f"{error.log} line {error.number})")
        elif self.bundle is not None:
            lines.append("  oracle           no error line in the bundle's logs")
        for rel, why in found.other if found is not None else []:
            lines.append(f"  not used         customer/{rel} ({why})")
        for note in self.extracted.notes:
            lines.append(f"  link             {note}")
        lines.append("left to fill in:")
        lines.append(f"  - steps: replace the placeholder step `{STEP}` (it fails on purpose) "
                     "with the customer's commands")
        if self.draft is not None and any(not to.startswith("service")
                                          for _, to in self.draft.data):
            lines.append(f"  - data: each `to:` under {DATA_ROOT}/ where the product reads it")
        if error is None:
            lines.append("  - oracle: the error the customer saw (a TODO condition stands in)")
        if self.bundle is not None:
            lines.append("  - confirm each `# proposed from` comment")
        for problem in self.problems:
            lines.append(f"  - fix: {problem}")
        lines.append(f"then: repro run {display_path(self.folder)}")
        return [printable(line) for line in lines]


def environment_path(root: Path, name: str | None) -> tuple[str, Path]:
    """`--env NAME`, or the project's only environment; a one-line refusal otherwise."""
    folder = root / "environments"
    known = sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []
    if name is not None:
        path = folder / f"{name}.yaml"
        if path.is_file():
            return name, path
        listed = ", ".join(known) or "none"
        raise ConfigError(Problem("--env", None, "", f"no environment {name!r} in "
                                  f"{display_path(folder)} (environments: {listed})"))
    if len(known) == 1:
        return known[0], folder / f"{known[0]}.yaml"
    if not known:
        raise ConfigError(Problem(display_path(folder), None, "", "no environment here: "
                                  "write environments/NAME.yaml first (`repro init` makes "
                                  "an example)"))
    raise ConfigError(Problem("--env", None, "", "the project has several environments: "
                              f"pick one with --env NAME ({', '.join(known)})"))


def create(root: Path, ticket: str, bundle: Path | None, env_name: str | None,
           force: bool = False, bounds: DataBounds | None = None) -> Created:
    if not _TICKET.match(ticket):
        raise ConfigError(Problem("TICKET", None, "", f"{ticket!r} is not a ticket name: "
                                  "letters, digits, '.', '_' and '-', starting with a letter "
                                  "or digit"))
    name, env_file = environment_path(root, env_name)
    env = load_environment(env_file).record
    scenarios = root / "scenarios"
    target = scenarios / ticket
    refused = outside(target, root)
    if refused:
        raise ConfigError(Problem(display_path(target), None, "", refused))
    if (target.exists() or target.is_symlink()) and not force:
        raise ConfigError(Problem(display_path(target), None, "", "the scenario already "
                                  "exists; pass --force to replace it"))
    if bundle is not None:
        _refuse_overlap(bundle, target, scenarios)
    made_scenarios = not scenarios.exists()
    scenarios.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{ticket}.", suffix=".new", dir=scenarios))
    try:
        created = _fill(work, ticket, name, env, bundle, bounds or DataBounds())
        created.problems = _validate(work, target)
        _swap(work, target, force)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        if made_scenarios:
            with contextlib.suppress(OSError):  # only if still empty: never others' files
                scenarios.rmdir()
        raise
    created.folder = target
    return created


def _fill(work: Path, ticket: str, name: str, env: Environment, bundle: Path | None,
          bounds: DataBounds) -> Created:
    created = Created(work, name, bundle)
    customer = None
    if bundle is not None:
        customer = work / CUSTOMER
        customer.mkdir()
        created.extracted = extract(bundle, customer, bounds)
        unwrap(customer, created.extracted)
        created.found = sort_files(customer, created.extracted.files, env)
        created.error = last_error(customer, created.found.logs)
    created.draft = draft(ticket, name, env, created.found, created.error,
                          display_path(bundle) if bundle is not None else None, customer)
    (work / SCENARIO_FILE).write_text(created.draft.text, encoding="utf-8")
    return created


def _validate(work: Path, target: Path) -> list[str]:
    """`repro validate`'s lines for the draft, naming the folder it will have."""
    from repro.plan.validate import validate

    _, problems = validate(work / SCENARIO_FILE)
    if not problems:
        return []
    lines = ConfigError(problems).lines()
    return [line.replace(display_path(work), display_path(target)) for line in lines]


def _swap(work: Path, target: Path, force: bool) -> None:
    """Move the finished folder in; with --force, the old one out first, then away."""
    old = None
    if force and (target.exists() or target.is_symlink()):
        old = target.with_name(f"{work.name[:-len('.new')]}.old")
        target.rename(old)
    try:
        work.rename(target)
    except OSError:  # made meanwhile (another `repro new`): theirs stays, ours goes
        if old is not None:
            old.rename(target)
        raise ConfigError(Problem(display_path(target), None, "", "the scenario was created "
                                  "meanwhile by someone else; pass --force to replace "
                                  "it")) from None
    if old is not None:
        if old.is_symlink() or not old.is_dir():
            old.unlink()
        else:
            shutil.rmtree(old)


def _refuse_overlap(bundle: Path, target: Path, scenarios: Path) -> None:
    """The bundle is only read: never inside the folder --force replaces, nor around the
    folder being written."""
    source = bundle.resolve()
    if source.is_relative_to(target.resolve()):
        raise ConfigError(Problem(display_path(bundle), None, "", "the bundle lies inside "
                                  f"{display_path(target)}, which would be replaced; move it "
                                  "out first"))
    if source.is_dir() and scenarios.resolve().is_relative_to(source):
        raise ConfigError(Problem(display_path(bundle), None, "", "the bundle folder holds "
                                  "the project's scenarios/; point --from at the bundle "
                                  "itself"))


def bounds_from(pairs: list[str]) -> DataBounds:
    """`--limit size=20g --limit entries=200000 --limit ratio=500` over the defaults."""
    from dataclasses import replace

    from repro.config import units
    from repro.config.schema import Invalid

    bounds = DataBounds()
    for pair in pairs:
        key, _, value = pair.partition("=")
        try:
            if key == "size":
                bounds = replace(bounds, size=units.size(value))
            elif key in ("entries", "ratio") and value.isdigit() and int(value) > 0:
                bounds = replace(bounds, **{key: int(value)})
            else:
                raise Invalid("expected size=20g, entries=N or ratio=N (N above zero)")
        except Invalid as exc:
            raise ConfigError(Problem("--limit", None, "", f"{pair!r}: {exc}")) from None
    return bounds
